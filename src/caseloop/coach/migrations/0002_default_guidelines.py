"""The desk's default communication guidelines and jargon list; admins edit them afterwards."""

from django.db import migrations

DAYS = r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
TIME_EXPRESSIONS = [
    r"\b(today|tonight|tomorrow)\b",
    r"\bthis (morning|afternoon|evening|week)\b",
    r"\bnext (week|month|" + DAYS[1:-1] + r")\b",
    r"\bby (the )?(end|close) of\b",
    r"\bby (\w+ ){0,2}(noon|midday|midnight|" + DAYS[1:-1] + r"|\d)",
    r"\bon " + DAYS + r"\b",
    r"\bwithin (the next )?(\d+|an?|one|two|three|24|48) (minutes?|hours?|days?|working days?|business days?)\b",
    r"\bin (the next )?(\d+|an?|one|two|three) (minutes?|hours?|days?|working days?)\b",
    r"\b\d{1,2}(:\d{2})? ?(am|pm)\b",
    r"\b\d{1,2}:\d{2}\b",
    r"\bend of (the )?day\b",
    r"\b(straight|right) away\b",
    r"\b(immediately|at once)\b",
    r"\bbefore (\w+ ){0,2}(noon|" + DAYS[1:-1] + r"|tomorrow|the weekend|\d)",
]

GUIDELINES = [
    {
        "rule_id": "complaint-apology",
        "kind": "complaint_requires",
        "order": 10,
        "severity": "warning",
        "patterns": [r"\bsorry\b", r"\bapologi[sz]e", r"\bapologies\b", r"\bregret\b"],
        "params": {"complaint_cues": []},
        "message": "This replies to a complaint: say sorry for what went wrong.",
        "suggestion": "I'm sorry about the trouble this has caused you.",
    },
    {
        "rule_id": "complaint-thanks",
        "kind": "complaint_requires",
        "order": 11,
        "severity": "warning",
        "patterns": [
            r"\bthanks? (you )?(so much |very much )?for (raising|telling|letting|bringing|flagging|"
            r"reporting|writing|your (feedback|patience|message|email)|getting in touch|"
            r"contacting|reaching|pointing)",
            r"\bthank you\b.{0,40}\b(raising|telling us|letting us know|bringing|flagging|reporting)",
            r"\b(I|we) (really )?appreciate (you|your) (raising|telling|letting|bringing|flagging|"
            r"reporting|feedback|taking the time)",
            r"\bgrateful (that )?you (raised|told|let us know|flagged|reported)",
        ],
        "params": {"complaint_cues": []},
        "message": "This replies to a complaint: thank the customer for raising it.",
        "suggestion": "Thank you for raising this with us.",
    },
    {
        "rule_id": "no-cant-help",
        "kind": "phrase",
        "order": 20,
        "severity": "error",
        "patterns": [
            r"\bI (can't|can not|cannot|am unable to|'m unable to|won't be able to) help( you)?\b(?! but)",
            r"\b(there's|there is) nothing (else )?(I|we) can do\b",
            r"\bnot (my|our) (problem|department|job|responsibility)\b",
            r"\bwe (can't|cannot|can not) help( you)?\b(?! but)",
        ],
        "params": {},
        "message": "Never tell a customer you can't help: say what you can do.",
        "suggestion": "Here is what I can do for you: …",
    },
    {
        "rule_id": "no-blame",
        "kind": "phrase",
        "order": 30,
        "severity": "error",
        "patterns": [
            r"\byou should have\b",
            r"\byou should've\b",
            r"\bas I (already |previously |have already )?(said|told you|explained|mentioned|stated)\b",
            r"\b(that|this|it)('s| is) not our fault\b",
            r"\byou failed to\b",
            r"\byou (didn't|did not) (read|follow|check|listen)\b",
            r"\bif you had (read|followed|listened|checked)\b",
            r"\b(is|was) clearly (stated|written|explained)\b",
            r"\byour (own )?fault\b",
            r"\bas stated (before|previously|above|earlier)\b",
            r"\byou need to (calm down|understand)\b",
            r"\byou('re| are) (wrong|mistaken)\b",
            r"\buser error\b",
        ],
        "params": {
            "rewrites": {
                "should": "Let's get this sorted: here is what happens next …",
                "as I": "To recap: …",
                "fault": "I understand how frustrating this is; here is what I'll do …",
                "failed": "It looks like a step was missed; here is how to fix it …",
            }
        },
        "message": "Don't argue with or blame the customer; focus on what happens next.",
        "suggestion": "Let's get this sorted: here is what happens next …",
    },
    {
        "rule_id": "truthful",
        "kind": "phrase",
        "order": 40,
        "severity": "warning",
        "patterns": [
            r"\bprobably\b",
            r"\bhopefully\b",
            r"\bI hope (it|this|that|the)\b",
            r"\bI (think|guess|believe|suppose) (it|this|that|the \w+|you) (should|will|might|may|would)\b",
            r"\bshould be fine\b",
            r"\bmaybe\b",
            r"\balways\b",
            r"\bnever\b",
            r"\bguarantee[ds]?\b",
            r"\b100 ?%",
            r"\bdefinitely\b",
        ],
        "params": {
            "rewrites": {
                "always|never|guarantee|100|definitely": "State only what you can stand behind, "
                "e.g. 'in most cases' or the actual figure.",
            }
        },
        "message": "Be truthful: no guesses, hopes or exaggeration.",
        "suggestion": "Say what you know, or that you'll check and when: "
        "'I've checked and …' / 'I'll confirm by 3pm today.'",
    },
    {
        "rule_id": "jargon",
        "kind": "jargon",
        "order": 50,
        "severity": "warning",
        "patterns": [],
        "params": {},
        "message": "Customers may not know it; use plain words.",
        "suggestion": "Use plain words the customer would use.",
    },
    {
        "rule_id": "succinct",
        "kind": "length",
        "order": 60,
        "severity": "info",
        "patterns": [],
        "params": {"max_words": 150, "max_sentence_words": 35},
        "message": "Keep replies short and to the point.",
        "suggestion": "Lead with the answer, then the next step; cut background the customer "
        "does not need.",
    },
    {
        "rule_id": "promise-when",
        "kind": "trigger_requires",
        "order": 70,
        "severity": "warning",
        "patterns": [
            r"\b(I|we)('ll| will| shall) (look into|check|investigate|get back|follow up|update you|"
            r"find out|chase|contact|call|email|arrange|send|review|process|sort|fix|come back)",
            r"\b(I|we)('m| am|'re| are) (looking into|checking|investigating|chasing)\b",
            r"\b(I|we)('ll| will) be in touch\b",
        ],
        "params": {"requires": TIME_EXPRESSIONS, "scope": "sentence"},
        "message": "A promise of action should say when.",
        "suggestion": "Say when: 'I'll look into it and update you by 3pm today.'",
    },
    {
        "rule_id": "plan-permission",
        "kind": "trigger_requires",
        "order": 80,
        "severity": "warning",
        "patterns": [
            r"\b(I|we) (would )?(propose|suggest|recommend)\b",
            r"\b(my|our|the) plan (is|would be)\b",
            r"\bhere'?s (what I|what we|the plan|my plan|our plan)\b",
            r"\bwhat (I|we) can do is\b",
            r"\bthe (best )?(next step|option) (is|would be)\b",
            r"\b(I|we) (could|can) (offer|send you|replace|refund|arrange|book|swap)\b",
        ],
        "params": {
            "requires": [
                r"\bshall (I|we)\b",
                r"\bwould you like (me|us) to\b",
                r"\bmay (I|we)\b",
                r"\b(is|would) (that|this) (be )?(ok|okay|alright|all right|acceptable|suit you|work for you)\b",
                r"\bdo you (agree|want me to|want us to|approve)\b",
                r"\b(your|the) (permission|approval|go-ahead|consent)\b",
                r"\b(can|should) (I|we) (go ahead|proceed)\b",
                r"\bhappy for (me|us) to\b",
                r"\bare you happy (for|with)\b",
                r"\b(ok|okay) to (proceed|go ahead)\b",
                r"\blet me know if you('d like| would like| want| agree| are happy| approve)",
                r"\bwould you prefer\b",
            ],
            "scope": "draft",
        },
        "message": "A proposed plan should ask the customer's permission to proceed.",
        "suggestion": "Ask before acting: 'Shall I go ahead with this?'",
    },
    {
        "rule_id": "resolution-satisfied",
        "kind": "trigger_requires",
        "order": 90,
        "severity": "warning",
        "patterns": [
            r"\b(has|have) (now )?been (resolved|fixed|sorted|refunded|processed|replaced|corrected|"
            r"credited|reset|restored|cancell?ed|reactivated|unlocked)\b",
            r"\b(is|are) (now )?(resolved|fixed|sorted( out)?|working again|back to normal|unlocked)\b",
            r"\b(I|we)('ve| have) (now )?(resolved|fixed|sorted|refunded|processed|replaced|corrected|"
            r"credited|reset|restored|cancell?ed|issued|reactivated|unlocked)\b",
            r"\bshould now (work|be working)\b",
        ],
        "params": {
            "requires": [
                r"\b(are|were) you (satisfied|happy)\b",
                r"\bdoes (that|this) (solve|resolve|fix|answer|sort)\b",
                r"\b(is|has) (that|this|everything|it) (now )?(solved|resolved|sorted|working|fixed)",
                r"\b(let me|let us) know if (it|this|that|everything|the problem|the issue|you are satisfied|you're satisfied|you are happy|you're happy)\b",
                r"\bis there anything else\b",
                r"\bhappy with\b",
                r"\bconfirm (that )?(it|this|everything|the)\b",
                r"\bdid (that|this) (solve|fix|help|work)\b",
                r"\bsatisf(ied|actory)\b",
            ],
            "scope": "draft",
        },
        "message": "A resolution should ask whether the customer is satisfied.",
        "suggestion": "Ask: 'Does this solve it for you?'",
    },
]

JARGON = [
    ("SLA", "response time"),
    ("RMA", "return number"),
    ("L2", "our specialist team"),
    ("L3", "our engineering team"),
    ("tier 2", "our specialist team"),
    ("P1", "top priority"),
    ("SKU", "product code"),
    ("WMS", "warehouse system"),
    ("KB article", "help centre article"),
    ("CSAT", "feedback survey"),
    ("repro", "reproduce the problem"),
    ("hotfix", "quick fix"),
    ("cron job", "scheduled task"),
    ("backend", "our systems"),
    ("TAT", "turnaround time"),
    ("EOD", "end of day"),
    ("OOS", "out of stock"),
    ("dispatch exception", "delivery problem"),
    ("chargeback", "payment dispute"),
    ("PO", "order"),
]


def seed(apps, schema_editor):
    Guideline = apps.get_model("coach", "Guideline")
    JargonTerm = apps.get_model("coach", "JargonTerm")
    for row in GUIDELINES:
        Guideline.objects.update_or_create(rule_id=row["rule_id"], defaults=row)
    for term, plain in JARGON:
        JargonTerm.objects.update_or_create(term=term, defaults={"plain": plain})


def unseed(apps, schema_editor):
    apps.get_model("coach", "Guideline").objects.filter(
        rule_id__in=[row["rule_id"] for row in GUIDELINES]
    ).delete()
    apps.get_model("coach", "JargonTerm").objects.filter(
        term__in=[term for term, _ in JARGON]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("coach", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
