from caseloop.lib import memo


def test_a_value_is_read_once_per_scope_and_never_kept_outside_one():
    reads = []

    def load():
        reads.append(1)
        return len(reads)

    assert memo.once("k", load) == 1 and memo.once("k", load) == 2  # no scope: every time
    with memo.scope():
        assert memo.once("k", load) == 3
        with memo.scope():  # a nested scope shares the outer one's values
            assert memo.once("k", load) == 3
        assert memo.once("k", load) == 3
    with memo.scope():  # a new scope reads again
        assert memo.once("k", load) == 4
