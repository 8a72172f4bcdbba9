"""Run inside the browser tests' server environment: seed the desk, or act as an agent
through the services where the journey needs a step the loop's own screens provide.

    python tests/browser/desk_script.py seed
    python tests/browser/desk_script.py share-plan CL-000001 alex
    python tests/browser/desk_script.py chat-widget shop lee@example.com
    python tests/browser/desk_script.py case-customer CL-000001
    python tests/browser/desk_script.py new-case "Printer jammed" low
    python tests/browser/desk_script.py reply-case alex
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseloop.settings")


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from caseloop.accounts.models import Team, User
    from caseloop.accounts.services import user_create

    if argv[0] == "seed":
        team = Team.objects.get_or_create(name="Front line", slug="front-line")[0]
        agent = user_create(username="alex", role="agent", password="desk-pass", first_name="Alex")
        team.members.add(agent)
        user_create(username="morgan", role="manager", password="desk-pass", first_name="Morgan")
        return
    if argv[0] == "specialist-and-warehouse":
        # A tier-2 specialist, and a warehouse team someone else works in.
        if not User.objects.filter(username="sky").exists():
            user_create(
                username="sky", role="agent", tier=2, password="desk-pass", first_name="Sky"
            )
            wes = user_create(username="wes", role="agent", password="desk-pass", first_name="Wes")
            Team.objects.get_or_create(name="Warehouse", slug="warehouse")[0].members.add(wes)
        return
    if argv[0] == "share-plan":
        from caseloop.cases.loop.plans import plan_create, plan_share
        from caseloop.cases.models import Case

        case = Case.objects.get(reference=argv[1])
        agent = User.objects.get(username=argv[2])
        plan = plan_create(
            case=case,
            summary="Send a replacement kettle by courier and collect the broken one.",
            steps=["Book the courier", "Ship the replacement"],
            expected_timeline="within 2 working days",
            actor=agent,
        )
        plan_share(plan=plan, actor=agent)
        return
    if argv[0] == "chat-widget":
        from caseloop.cases.services import case_create
        from caseloop.channels.chat.models import ChatWidget
        from caseloop.customers.services import Identity, customer_find_or_create

        ChatWidget.objects.get_or_create(key=argv[1], defaults={"name": "Shop"})
        customer = customer_find_or_create(identity=Identity(email=argv[2], name="Lee"))
        case_create(customer=customer, subject="Earlier order", text="Where is it?", channel="web")
        return
    if argv[0] == "case-customer":
        from caseloop.cases.models import Case

        case = Case.objects.select_related("customer").get(reference=argv[1])
        print(",".join(sorted(case.customer.contact_points.values_list("value", flat=True))))
        return
    if argv[0] == "new-case":
        from caseloop.cases.services import case_create
        from caseloop.customers.services import Identity, customer_find_or_create

        customer = customer_find_or_create(identity=Identity(email="sam@example.com", name="Sam"))
        case = case_create(
            customer=customer, subject=argv[1], text=argv[1], channel="web", priority=argv[2]
        )
        print(case.pk)
        return
    if argv[0] == "solved-case":
        from datetime import timedelta

        from django.utils import timezone

        from caseloop.cases.services import case_create, case_transition, reply_send
        from caseloop.customers.services import Identity, customer_find_or_create
        from caseloop.insights.rollups import rollups_catch_up

        agent = User.objects.get(username="alex")
        customer = customer_find_or_create(identity=Identity(email="kim@example.com", name="Kim"))
        case = case_create(customer=customer, subject=argv[1], text=argv[1], channel="email")
        reply_send(case=case, actor=agent, text="Refunded today; thanks.", send_anyway=True)
        case_transition(case=case, to="solved", actor=agent)
        rollups_catch_up(now=timezone.now() + timedelta(minutes=5))
        print(case.reference)
        return
    if argv[0] == "reply-case":
        # A long conversation about a return, with a published article that answers it.
        from caseloop.cases.services import case_create, message_add
        from caseloop.customers.services import Identity, customer_find_or_create
        from caseloop.knowledge.models import Article
        from caseloop.knowledge.services import article_create, article_transition

        agent = User.objects.get(username=argv[1])
        if not Article.objects.filter(title="How do I return a kettle?").exists():
            article = article_create(
                title="How do I return a kettle?",
                body="You can return a kettle within **30 days** of delivery, unused and in "
                "its box.\n\n1. Open the order in your account.\n2. Print the prepaid "
                "label.\n\n## For our team\n\nCheck the order date first.",
                actor=agent,
                audience="public",
                tags=["returns"],
            )
            for step in ("review", "published"):
                article = article_transition(article=article, to=step, actor=agent)
        customer = customer_find_or_create(
            identity=Identity(email="dana.returns@example.com", name="Dana Reyes")
        )
        case = case_create(
            customer=customer,
            subject="Return a kettle",
            text="How do I return a kettle? It is unused and still in its box.",
            channel="email",
        )
        for n in range(12):
            message_add(
                case=case,
                direction="inbound",
                text=f"Another detail about the kettle, number {n}.\n\n" + "More words. " * 40,
            )
        print(case.pk)
        return
    raise SystemExit(f"unknown command {argv[0]!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
