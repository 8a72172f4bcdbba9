import pytest

from caseloop.lib.signing import (
    SignatureError,
    SignatureStale,
    signature_compute,
    signature_header,
    signature_verify,
)

SECRET = "whsec_test"
BODY = b'{"event_id": "e1"}'


def test_a_valid_signature_returns_its_timestamp():
    header = signature_header(secret=SECRET, body=BODY, timestamp=1_000_000)
    assert (
        signature_verify(secret=SECRET, header=header, body=BODY, tolerance=300, now=1_000_100)
        == 1_000_000
    )


def test_any_of_several_v1_signatures_may_match_during_rotation():
    good = signature_compute(secret=SECRET, timestamp=1_000_000, body=BODY)
    header = f"t=1000000,v1={'0' * 64},v1={good}"
    assert signature_verify(secret=SECRET, header=header, body=BODY, tolerance=300, now=1_000_000)


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "t=1000000", "v1=abcd"])
def test_missing_or_malformed_headers_are_refused(header):
    with pytest.raises(SignatureError):
        signature_verify(secret=SECRET, header=header, body=BODY, tolerance=300, now=1_000_000)


def test_timestamps_outside_the_window_are_stale_both_ways():
    header = signature_header(secret=SECRET, body=BODY, timestamp=1_000_000)
    with pytest.raises(SignatureStale, match="old"):
        signature_verify(secret=SECRET, header=header, body=BODY, tolerance=300, now=1_000_301)
    with pytest.raises(SignatureStale, match="future"):
        signature_verify(secret=SECRET, header=header, body=BODY, tolerance=300, now=999_000)


def test_a_signature_over_another_timestamp_does_not_verify():
    signature = signature_compute(secret=SECRET, timestamp=1_000_000, body=BODY)
    with pytest.raises(SignatureError, match="does not match"):
        signature_verify(
            secret=SECRET,
            header=f"t=1000001,v1={signature}",
            body=BODY,
            tolerance=300,
            now=1_000_001,
        )
