"""The demo desk's knowledge base and prepared responses: what a small home-goods shop
would have written down, so the help centre, article suggestions and macros have something
to show. Articles: (title, category slug, kind, audience, state, tags, body in Markdown)."""

from __future__ import annotations

PUBLIC, INTERNAL = "public", "internal"
PUBLISHED, REVIEW = "published", "review"

ARTICLES = [
    (
        "When will my order arrive?",
        "delivery",
        "faq",
        PUBLIC,
        PUBLISHED,
        ["delivery", "tracking"],
        """Most orders leave our warehouse within **one working day**.

- Standard delivery: 2–4 working days after dispatch.
- Next-day delivery: ordered before 2 pm on a working day, delivered the next working day.

Your dispatch email has a tracking link from the carrier (DPD, UPS, Royal Mail, DHL or
GLS). Tracking can take a few hours to show the parcel after dispatch.

If the tracking has not changed for three working days, reply to your order email and we
will chase the carrier for you.""",
    ),
    (
        "My parcel says delivered but I don't have it",
        "delivery",
        "troubleshooting",
        PUBLIC,
        PUBLISHED,
        ["delivery", "missing parcel"],
        """Before anything else, please check:

1. Around your property, with neighbours and in any safe place you have told the carrier about.
2. The photo or signature on the carrier's tracking page.
3. That the delivery address on your order confirmation is right.

Still nothing after 24 hours? Write to us with your order number. We open an
investigation with the carrier and, if the parcel is not found within five working days,
send a replacement or refund you in full.""",
    ),
    (
        "How do I return an item?",
        "returns",
        "faq",
        PUBLIC,
        PUBLISHED,
        ["returns", "refund"],
        """You can return most items within **30 days** of delivery, unused and in their
original packaging.

1. Sign in to your account and open the order.
2. Choose **Return an item** and print the prepaid label.
3. Drop the parcel at any post office or carrier point.

Refunds go back to the original payment method within 5 working days of the item reaching
us. Opened small appliances can be returned if they are faulty; see *Warranty and repairs*.""",
    ),
    (
        "When will I get my refund?",
        "returns",
        "faq",
        PUBLIC,
        PUBLISHED,
        ["refund"],
        """We refund within **5 working days** of receiving your return, to the card or
account you paid with. Your bank may take another 3–5 working days to show it.

You get an email the moment we issue the refund, with the amount and the date.""",
    ),
    (
        "I was charged twice for one order",
        "billing",
        "troubleshooting",
        PUBLIC,
        PUBLISHED,
        ["billing", "payment"],
        """A second charge is usually a **pending authorisation** that your bank releases by
itself within 3–5 working days; only one payment is actually taken.

If both payments still show as completed after five working days, send us a screenshot of
your statement with the order number and we will refund the duplicate the same day.""",
    ),
    (
        "Setting up the Kestrel R5 robot vacuum",
        "technical",
        "troubleshooting",
        PUBLIC,
        PUBLISHED,
        ["kestrel", "wi-fi", "app"],
        """1. Charge the vacuum on its dock for three hours before the first run.
2. In the Northwind Home app, choose **Add device** and hold the home button for five
   seconds until the light blinks blue.
3. Connect it to a **2.4 GHz** Wi-Fi network: the R5 does not join 5 GHz networks.

If pairing fails, restart your router and the vacuum, then try again within two metres of
the router.""",
    ),
    (
        "Resetting your password and two-step sign-in",
        "account",
        "faq",
        PUBLIC,
        PUBLISHED,
        ["account", "password"],
        """Choose **Forgot password** on the sign-in page; the reset link is valid for one
hour. If you lost the phone you use for two-step sign-in, use one of your backup codes or
write to us from your account's email address and we will verify you and reset it.""",
    ),
    (
        "Northwind Plus: what it includes and how to cancel",
        "subscription",
        "policy",
        PUBLIC,
        PUBLISHED,
        ["subscription", "northwind plus"],
        """Northwind Plus gives free next-day delivery, a filter plan at 20 % off and an
extended two-year warranty on new appliances.

Cancel any time from **Account → Membership**. Monthly plans stop at the end of the month
you cancel in; annual plans are refunded pro rata when cancelled within the first 60 days.""",
    ),
    (
        "Warranty and repairs",
        "warranty",
        "policy",
        PUBLIC,
        PUBLISHED,
        ["warranty", "repair"],
        """Every appliance has a **one-year warranty** (two years with Northwind Plus). A
fault within the warranty is repaired or replaced free of charge, collection included.

Write to us with the order number, a short description of the fault and, if you can, a
photo or video.""",
    ),
    (
        "Refunds and goodwill: who may approve what",
        "returns",
        "procedure",
        INTERNAL,
        PUBLISHED,
        ["refund", "authority"],
        """- Tier 1 may refund, or offer a goodwill store credit, up to **£50** on their own;
  tier 2 up to £500; above that, a manager.
- Above your limit, check your authority in the case's loop panel: it names who may grant
  it. Escalate to one of them with the order number, the amount and what the customer
  asked for; the case cannot be solved with that remedy until they approve it.
- Never refund before a missing-parcel investigation has closed, unless the customer is VIP.

Record the remedy in the case's plan so the customer can approve it.""",
    ),
    (
        "Escalating a suspected product safety issue",
        "technical",
        "escalation_path",
        INTERNAL,
        PUBLISHED,
        ["safety", "escalation"],
        """Overheating, smoke, sparks, burns or water where it should not be: treat it as
**urgent**.

1. Tell the customer to stop using and unplug the product.
2. Escalate to the Escalations team with photos, the product and the order number.
3. Do not promise a cause; promise a call back within four working hours.""",
    ),
    (
        "Brio espresso machine: descaling",
        "technical",
        "troubleshooting",
        PUBLIC,
        REVIEW,
        ["brio", "descaling"],
        """Descale every two months in hard-water areas: run the descaling programme with
one sachet dissolved in a full tank, then two full tanks of clean water.""",
    ),
]

# Prepared responses: (name, team slug or None for every team, status to set, tags, the
# category slugs and loop stages it fits (empty: any), body). The case page ranks them by
# that fit, by what agents used on such cases and by what the customer was already sent.
MACROS = [
    (
        "Confirm what I understood",
        None,
        "",
        [],
        [],
        ["problem"],
        """Hello {customer_first_name},

Thank you for writing about “{subject}”. I'm {agent_first_name} and I will look after
this until it is solved. So that I solve the right problem, I will send you a short summary
of what I understood: please tell me if I have missed anything.

{agent_first_name}, Northwind Home support""",
    ),
    (
        "Ask for the order number and delivery address",
        None,
        "pending_customer",
        [],
        ["delivery", "returns"],
        ["facts"],
        """Hello {customer_first_name},

To look into this I need two things: the order number (it starts with NW- and is in your
confirmation email) and the delivery address the order went to.

{agent_first_name}, Northwind Home support""",
    ),
    (
        "Missing parcel: investigation opened",
        "orders-delivery",
        "pending_internal",
        ["missing parcel"],
        ["delivery"],
        ["implement"],
        """Hello {customer_first_name},

I'm sorry your parcel hasn't reached you. I have opened an investigation with the carrier
under {case_reference}; they usually answer within five working days, and I will write to
you as soon as they do. If it cannot be found, we will send a replacement or refund you.

{agent_first_name}, Northwind Home support""",
    ),
    (
        "Refund issued",
        None,
        "solved",
        ["refund"],
        ["returns", "billing"],
        [],
        """Hello {customer_first_name},

I have issued your refund today. It goes back to the card you paid with; your bank may take
3–5 working days to show it. Your reference is {case_reference}.

{agent_first_name}, Northwind Home support""",
    ),
    (
        "Ask for a photo of the fault",
        "technical-support",
        "pending_customer",
        ["warranty"],
        ["technical", "warranty"],
        ["facts"],
        """Hello {customer_first_name},

Thank you for the details. Could you send a photo or a short video of the fault, and the
serial number from the label underneath? With those I can arrange the repair or replacement
straight away.

{agent_first_name}, Northwind Home support""",
    ),
]
