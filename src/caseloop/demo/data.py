"""The demo desk: Northwind Home, an online shop for home appliances and electronics.

Everything here was written for the demo. Conversations are composed from scenario
templates (a problem, the customer's words, the agent's replies, internal notes) with
products, orders, amounts and names varied, so the desk reads like a real week of support.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COMPANY = "Northwind Home"
SUPPORT_SIGNATURE = "Northwind Home support"
DEMO_PASSWORD = "caseloop-demo"
DEMO_EMAIL_DOMAIN = "northwind.example"

TEAMS = [
    ("Billing", "billing", "Payments, invoices, refunds to card and subscription charges."),
    (
        "Orders & Delivery",
        "orders-delivery",
        "Order status, carriers, missing and damaged parcels, returns.",
    ),
    (
        "Technical support",
        "technical-support",
        "Set-up, faults, firmware, the app and accounts.",
    ),
    (
        "Escalations",
        "escalations",
        "Tier 2: complaints, goodwill above the front-line limit, repeat faults.",
    ),
]

CATEGORIES = [
    ("Billing & payments", "billing", "Charges, invoices, payment methods.", "billing"),
    ("Orders & delivery", "delivery", "Where is my order, carriers, addresses.", "orders-delivery"),
    ("Returns & refunds", "returns", "Return labels, refunds, exchanges.", "orders-delivery"),
    ("Product fault", "technical", "Set-up problems and faulty devices.", "technical-support"),
    (
        "Account & sign-in",
        "account",
        "Passwords, two-step sign-in, profile data.",
        "technical-support",
    ),
    ("Subscriptions", "subscription", "Northwind Plus membership and filter plans.", "billing"),
    ("Warranty", "warranty", "Repairs and replacements under warranty.", "technical-support"),
    ("Complaint", "complaint", "Service complaints and feedback.", "escalations"),
]

# Cold-start keyword rules per category slug: triage's first guesses before it has learned.
CATEGORY_KEYWORDS = {
    "billing": "invoice, charged twice, charge, payment, card declined, billing, VAT",
    "delivery": "delivery, tracking, courier, parcel, not arrived, where is my order, shipping",
    "returns": "return, refund, exchange, return label, money back",
    "technical": "not working, stopped working, error, broken, faulty, won't turn on, smokes",
    "account": "password, sign in, log in, login, two-step, account locked",
    "subscription": "subscription, membership, Northwind Plus, renewal, cancel my plan",
    "warranty": "warranty, guarantee, repair, replacement part",
    "complaint": "complaint, unacceptable, disappointed, furious, worst service, third time",
}

# username, first, last, role, tier, teams, skills (category slugs)
AGENTS = [
    ("agent", "Maya", "Okafor", "agent", 1, ["orders-delivery"], ["delivery", "returns"]),
    ("agent2", "Tomás", "Rivera", "agent", 1, ["billing"], ["billing", "subscription"]),
    ("agent3", "Priya", "Nair", "agent", 1, ["technical-support"], ["technical", "account"]),
    ("agent4", "Jonas", "Weber", "agent", 1, ["orders-delivery", "billing"], ["delivery"]),
    (
        "specialist",
        "Dana",
        "Whitfield",
        "agent",
        2,
        ["escalations", "technical-support"],
        ["technical", "warranty", "complaint"],
    ),
    (
        "specialist2",
        "Kenji",
        "Sato",
        "agent",
        3,
        ["escalations", "billing"],
        ["billing", "complaint", "returns"],
    ),
    ("manager", "Rosa", "Lindqvist", "manager", 3, ["escalations"], []),
    ("admin", "Sam", "Adeyemi", "admin", 3, [], []),
]

FIRST_NAMES = [
    "Ann",
    "Bilal",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farah",
    "George",
    "Hana",
    "Ivan",
    "Julia",
    "Kwame",
    "Laura",
    "Mateo",
    "Nadia",
    "Oliver",
    "Paula",
    "Quentin",
    "Rania",
    "Stefan",
    "Tara",
    "Umar",
    "Vera",
    "William",
    "Xin",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Carmen",
    "David",
    "Emre",
    "Fiona",
    "Gustavo",
    "Helen",
    "Isabel",
    "James",
    "Katarzyna",
    "Liam",
    "Mei",
    "Noah",
    "Olga",
    "Pedro",
    "Rachel",
    "Sven",
    "Teresa",
    "Victor",
    "Wanjiru",
    "Yara",
    "Amir",
    "Beatriz",
]
LAST_NAMES = [
    "Adams",
    "Brennan",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ibrahim",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Nguyen",
    "O'Neill",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhang",
    "Andersson",
    "Baker",
    "Chen",
    "Diallo",
    "Evans",
    "Ferreira",
    "Grant",
    "Horvat",
    "Ito",
    "Jovanovic",
    "Khan",
    "Larsen",
    "Mensah",
    "Novak",
    "Okoro",
    "Petrov",
    "Reyes",
    "Silva",
    "Thompson",
    "Ueda",
    "Vasquez",
    "Wright",
    "Young",
    "Ahmed",
    "Becker",
]

ORGANIZATIONS = [
    ("Harbour Lane Cafés", "premium"),
    ("Kestrel Dental Group", "standard"),
    ("Bright Path Coworking", "premium"),
    ("Maple & Rye Bakery", "standard"),
]

# name, price
PRODUCTS = [
    ("Aurora 1.7 L kettle", "49.00"),
    ("Brio espresso machine", "329.00"),
    ("Kestrel R5 robot vacuum", "449.00"),
    ("Lumen smart bulb 4-pack", "59.90"),
    ("Halden standing desk", "589.00"),
    ("Tern ANC headphones", "219.00"),
    ("Pico smart speaker", "89.00"),
    ("Fjord air purifier", "279.00"),
    ("Sable chef's knife set", "139.00"),
    ("Vela smart thermostat", "199.00"),
    ("Orbit wireless charger", "39.90"),
    ("Cirrus humidifier", "119.00"),
]
APP_DEVICES = [
    "Kestrel R5 robot vacuum",
    "Lumen smart bulb 4-pack",
    "Pico smart speaker",
    "Vela smart thermostat",
    "Fjord air purifier",
]
CARRIERS = ["DPD", "UPS", "Royal Mail", "DHL", "GLS"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
CITIES = ["Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff", "Norwich", "York"]


@dataclass(frozen=True)
class Scenario:
    """One kind of problem, with the ways customers and agents talk about it.

    Every text is a `str.format` template; the demo fills in {first}, {product}, {order},
    {amount}, {carrier}, {weekday}, {city}, {days}, {ref}, {tracking}, {last4}, {agent},
    {plan}, {org}, {code}, {months}, {goodwill}, {company} and {team}.
    """

    key: str
    category: str
    subjects: list[str]
    openings: list[str]
    short: list[str]
    replies: list[str]
    questions: list[str]
    answers: list[str]
    notes: list[str]
    resolutions: list[str]
    tags: list[str]
    priorities: list[str] = field(default_factory=lambda: ["normal", "normal", "low", "high"])
    needs_app_device: bool = False
    escalates: bool = False


SCENARIOS = [
    Scenario(
        key="late-delivery",
        category="delivery",
        subjects=[
            "Where is my order {order}?",
            "Order {order} still not delivered",
            "Tracking hasn't moved since {weekday}",
            "{product} - delivery is late",
        ],
        openings=[
            "I ordered the {product} on {weekday} (order {order}) and the tracking page has "
            "said 'in transit' for {days} days now. The confirmation promised delivery within "
            "three working days. Can you tell me where it actually is?",
            "My order {order} was supposed to arrive yesterday. {carrier} tracking shows it "
            "left the {city} depot and then nothing. I took the day off to wait for it, so "
            "I'm not thrilled. Is it lost?",
            "Hello, I'm still waiting for my {product}. Order number {order}. I've checked "
            "with my neighbours and the building reception - nothing. Please help.",
        ],
        short=[
            "hi, my order {order} hasn't arrived and tracking is stuck. can you check?",
            "where is my {product}? order {order}, tracking not moving for {days} days",
        ],
        replies=[
            "I'm sorry the {product} hasn't reached you yet. I've looked up order {order}: "
            "{carrier} scanned it at their {city} depot on {weekday} and it has not moved "
            "since. I've opened a trace with them (reference {ref}) and I'll update you as "
            "soon as they answer - usually within one working day.",
            "Thanks for your patience, and sorry for the wait. Order {order} is with "
            "{carrier}; their system shows a sorting delay at {city}. I've asked them to "
            "prioritise it and I'm keeping this case open until it's in your hands.",
        ],
        questions=[
            "To speed up the trace, could you confirm the delivery address and whether "
            "there's a safe place the driver can leave the parcel?",
            "Could you confirm a phone number the driver can call on the day? {carrier} "
            "asked for one before they re-attempt.",
        ],
        answers=[
            "Sure - same address as on the order, and they can leave it in the porch if "
            "nobody answers. Phone is on my account.",
            "Address is correct. Please ask them to ring the bell twice, the buzzer is broken.",
        ],
        notes=[
            "{carrier} portal: parcel held at {city} hub, 'address query'. Trace {ref} "
            "opened. Chase again tomorrow morning if no movement.",
            "Customer has had two late deliveries this year - see earlier cases. If this "
            "one is lost, resend by express without waiting for the trace to finish.",
        ],
        resolutions=[
            "Good news: {carrier} found the parcel - it had been mis-sorted at {city}. It's "
            "out for delivery today and you should have it by 6 pm. I've refunded the "
            "delivery charge as an apology for the wait.",
            "The parcel was confirmed lost, so I've sent a replacement {product} by express "
            "(new order {order}-R). It should arrive tomorrow. You don't need to do anything "
            "else.",
        ],
        tags=["tracking", "carrier-delay"],
    ),
    Scenario(
        key="damaged",
        category="returns",
        subjects=[
            "{product} arrived damaged",
            "Broken on arrival - order {order}",
            "Cracked {product}",
        ],
        openings=[
            "The {product} from order {order} arrived this morning and the box was crushed "
            "on one corner. When I unpacked it, the casing is cracked right across the side. "
            "I have photos. I'd like a replacement, not a refund.",
            "Opened my {product} today and it's damaged - there's a dent in the front panel "
            "and something rattles inside. Order {order}. What do I do now?",
        ],
        short=[
            "my {product} came broken 😞 order {order}",
            "received {product} today, it's cracked. want a replacement pls",
        ],
        replies=[
            "I'm really sorry it arrived like that - that's not the experience we want you "
            "to have. I've arranged a free collection of the damaged {product} and a "
            "replacement will ship as soon as {carrier} scans the collection.",
            "Thank you for letting us know, and sorry about the state it arrived in. You "
            "don't need to send anything back until the replacement is with you.",
        ],
        questions=[
            "Could you send a photo or two of the damage and the outer box? The carrier "
            "needs them for the claim.",
            "Would you prefer a replacement or a full refund of {amount}? Either is fine on "
            "our side.",
        ],
        answers=[
            "Photos attached. The box was wet as well, if that helps with the claim.",
            "Replacement please, it was a present.",
        ],
        notes=[
            "Damage claim filed with {carrier}, ref {ref}. Replacement approved - within "
            "front-line limit ({amount}).",
            "Third damaged {product} from the {city} warehouse this week. Flagged to the "
            "warehouse lead; packaging looks too thin for this item.",
        ],
        resolutions=[
            "Your replacement {product} has been delivered according to {carrier}. The "
            "courier will pick up the damaged one on {weekday}; the label is in your inbox.",
            "I've refunded {amount} to your card ending {last4}. It can take 3-5 working "
            "days to show on your statement.",
        ],
        tags=["damaged-in-transit", "replacement"],
        priorities=["normal", "high"],
    ),
    Scenario(
        key="refund-missing",
        category="returns",
        subjects=[
            "Refund not received for return {order}",
            "Still waiting for my refund",
            "Returned the {product} {days} days ago - no refund",
        ],
        openings=[
            "I returned the {product} from order {order} {days} days ago. The tracking says "
            "it was delivered to your returns centre on {weekday}, but I haven't had the "
            "refund of {amount}. Your site says refunds take 5 days.",
            "Hi, I sent back my {product} (order {order}) and I still don't have my money. "
            "It's been {days} days. Can someone check what's going on?",
        ],
        short=[
            "returned {product} ages ago, where's my refund? order {order}",
            "refund for {order} still missing",
        ],
        replies=[
            "I've checked: the return for order {order} reached our returns centre on "
            "{weekday} but hasn't been booked in yet, which is why the refund hasn't gone "
            "out. I've asked the team to process it today.",
            "Sorry for the delay. Your return was received and inspected; the refund of "
            "{amount} was approved this morning and is on its way to your card ending "
            "{last4}.",
        ],
        questions=[
            "Could you send me the return tracking number from the label? I can't find it "
            "on the order.",
        ],
        answers=[
            "It's {tracking}. I dropped it at the post office on {weekday}.",
        ],
        notes=[
            "Returns centre backlog ~4 days. Asked them to book in {order} manually.",
            "Refund {amount} issued via payment provider, ref {ref}.",
        ],
        resolutions=[
            "The refund of {amount} has been issued to your card ending {last4} "
            "(reference {ref}). Banks usually show it within 3-5 working days.",
        ],
        tags=["refund", "returns-centre"],
    ),
    Scenario(
        key="double-charge",
        category="billing",
        subjects=[
            "Charged twice for order {order}",
            "Double payment on my card",
            "Two charges of {amount}",
        ],
        openings=[
            "I've been charged twice for the same order ({order}) - two payments of {amount} "
            "on my card ending {last4}, both on {weekday}. I only placed one order. Please "
            "refund the duplicate.",
            "My bank statement shows {amount} taken twice by {company}. I definitely only "
            "bought one {product}. This has put me into my overdraft.",
        ],
        short=[
            "you charged me twice?? {amount} x2 for order {order}",
            "double charge on my card for {product}",
        ],
        replies=[
            "I'm sorry about this. I can see two payment attempts for order {order}: the "
            "first was declined by your bank and then retried, so one of the two should be a "
            "pending authorisation that drops off by itself within 5 working days.",
            "You're right - there are two captured payments of {amount} for order {order}. "
            "I've refunded the duplicate straight away.",
        ],
        questions=[
            "Could you tell me whether both payments show as 'pending' or as completed on "
            "your statement? That tells us whether one is only an authorisation.",
        ],
        answers=[
            "One says pending, the other is completed.",
            "Both are completed, I checked with my bank this morning.",
        ],
        notes=[
            "Payment provider shows one capture + one auth for {order}. Auth expires in 5 "
            "days; nothing to refund, but explain clearly.",
            "Genuine duplicate capture - provider incident on {weekday}. Refund ref {ref}.",
        ],
        resolutions=[
            "The duplicate payment of {amount} has been refunded (reference {ref}). You'll "
            "see it on the card ending {last4} within a few days. Sorry again for the worry.",
            "The second amount was only an authorisation and your bank has now released "
            "it. Your statement should show a single payment of {amount}.",
        ],
        tags=["payment", "duplicate-charge"],
        priorities=["high", "normal", "high"],
    ),
    Scenario(
        key="invoice",
        category="billing",
        subjects=[
            "VAT invoice for order {order}",
            "Need an invoice with our company name",
            "Invoice address is wrong",
        ],
        openings=[
            "Could you send me a VAT invoice for order {order}? Our accounts department needs "
            "it with the company name and VAT number on it, which I forgot to add at "
            "checkout.",
            "The invoice for my {product} has my old address on it. I need it corrected for "
            "an expense claim by the end of the month.",
        ],
        short=["can i get a proper invoice for order {order}?"],
        replies=[
            "Of course. I can reissue the invoice for order {order} with your company details.",
        ],
        questions=[
            "Could you send the company name, registered address and VAT number exactly as "
            "they should appear?",
        ],
        answers=[
            "{org}, 14 Harbour Lane, {city}. VAT GB 284 1193 07.",
        ],
        notes=[
            "Guest checkout, so no company details on file. Billing back office can reissue "
            "as INV-{ref} once the customer sends them.",
        ],
        resolutions=[
            "The corrected invoice (INV-{ref}) is now under 'Orders' in your account, and a "
            "PDF copy is on its way to your email address.",
        ],
        tags=["invoice"],
        priorities=["low", "normal"],
    ),
    Scenario(
        key="subscription-cancel",
        category="subscription",
        subjects=[
            "Cancel Northwind Plus",
            "Charged for {plan} after cancelling",
            "Please stop my filter subscription",
        ],
        openings=[
            "I cancelled my {plan} membership last month, but I was charged {amount} again on "
            "{weekday}. I have the cancellation confirmation email. Please refund it and make "
            "sure it's really cancelled this time.",
            "I'd like to cancel the {plan}. I can't find the button anywhere in the app or on "
            "the website.",
        ],
        short=["how do i cancel {plan}?", "charged for {plan} but i cancelled!"],
        replies=[
            "I've cancelled the {plan} with immediate effect; you'll get a confirmation email "
            "in a few minutes. Nothing further will be charged.",
            "Sorry about that - the cancellation you made on the website didn't go through "
            "because of a fault on our side. I've cancelled it now.",
        ],
        questions=[
            "Just to be sure before I cancel: you'll lose the free delivery and the "
            "discounted filters. Would you like me to go ahead?",
        ],
        answers=["Yes please, cancel it.", "Yes, go ahead. I don't use it enough."],
        notes=[
            "Known bug: web cancellations fail when a filter shipment is pending (see the "
            "recurring problem). Cancelled manually.",
        ],
        resolutions=[
            "Your {plan} is cancelled and the last charge of {amount} has been refunded to "
            "the card ending {last4}.",
        ],
        tags=["cancellation", "northwind-plus"],
    ),
    Scenario(
        key="wifi-setup",
        category="technical",
        subjects=[
            "{product} won't connect to Wi-Fi",
            "Can't pair {product} with the app",
            "Set-up fails at 'Connecting…'",
        ],
        openings=[
            "I'm trying to set up the {product} in the Northwind app. It finds the device, "
            "asks for my Wi-Fi password and then sits at 'Connecting…' for two minutes before "
            "saying set-up failed. I've tried five times and restarted the router.",
            "My new {product} won't join my network. Other devices are fine. The light just "
            "keeps blinking blue. I have a mesh router if that matters.",
        ],
        short=[
            "{product} stuck on connecting in the app, tried everything",
            "can't get {product} online, light blinking blue",
        ],
        replies=[
            "Thanks for the detail, that helps. The {product} only works on 2.4 GHz Wi-Fi. "
            "Many mesh and dual-band routers combine 2.4 and 5 GHz under one name, which "
            "confuses set-up. Could you try temporarily turning off 5 GHz, or using the "
            "router's guest network on 2.4 GHz, and run set-up again?",
            "Sorry for the trouble. Please hold the button on the {product} for 10 seconds "
            "until the light flashes amber - that resets the Wi-Fi settings - then run set-up "
            "again with your phone close to the router.",
        ],
        questions=[
            "Which router do you have, and is the Northwind app on the latest version "
            "(Settings > About)?",
        ],
        answers=[
            "It's a TP-Link Deco mesh. App version 4.12.1.",
            "BT Smart Hub 2, app is up to date as far as I can tell.",
        ],
        notes=[
            "Mesh router + band steering again. If the 2.4 GHz workaround fails, escalate "
            "with the device log (Settings > Help > Send log).",
            "Firmware 2.3.1 has a known pairing bug on WPA3-only networks; fix due in 2.3.4.",
        ],
        resolutions=[
            "Glad to hear it's connected now. Once it's set up you can turn 5 GHz back on - "
            "the {product} will stay on the 2.4 GHz band.",
        ],
        tags=["wifi", "setup"],
        needs_app_device=True,
    ),
    Scenario(
        key="device-fault",
        category="warranty",
        subjects=[
            "{product} stopped working",
            "{product} error E{code}",
            "Faulty {product} - still under warranty",
        ],
        openings=[
            "My {product} has stopped working after {months} months. It powers on, shows "
            "error E{code} and then switches off. I've descaled it and tried another socket. "
            "It's still under the two-year warranty.",
            "The {product} I bought in spring makes a loud grinding noise and then stops. "
            "Order {order}. I'd like it repaired or replaced under warranty.",
        ],
        short=["{product} broken, error E{code}. warranty?"],
        replies=[
            "I'm sorry it's let you down. Error E{code} usually means the heating element "
            "has failed, which is covered by the warranty. I've checked your order and "
            "you're well within the two years.",
            "Thanks for trying those steps already. This sounds like a motor fault, so "
            "we'll repair or replace it under warranty at no cost to you.",
        ],
        questions=[
            "Could you send me the serial number from the label underneath? It starts with NW-.",
        ],
        answers=["It's NW-{ref}.", "Serial is NW-{ref}, photo of the label attached."],
        notes=[
            "E{code} on this batch is a known element fault (recurring problem). Replacement "
            "is the faster remedy; repair turnaround is 10 days.",
            "Repeat fault - second unit for this customer. Over front-line authority, "
            "escalating to tier 2 for a goodwill upgrade.",
        ],
        resolutions=[
            "A replacement {product} is on its way and a prepaid label for the faulty one is "
            "attached. Your warranty carries over to the new unit.",
            "The repair centre has fixed your {product} and it's on its way back to you by "
            "{carrier}.",
        ],
        tags=["warranty", "hardware-fault"],
        priorities=["normal", "high"],
        escalates=True,
    ),
    Scenario(
        key="account-locked",
        category="account",
        subjects=[
            "Locked out of my account",
            "Password reset email never arrives",
            "Two-step code not working",
        ],
        openings=[
            "I've been locked out of my account after too many attempts. The password reset "
            "email never arrives (I've checked spam). I need to check an order.",
            "The two-step verification code from the app is always rejected. I changed "
            "phones last week, which might be why.",
        ],
        short=[
            "can't log in, reset email never comes",
            "locked out of my account help",
        ],
        replies=[
            "I've unlocked your account and sent a fresh reset link; it's valid for one "
            "hour. If it still doesn't arrive, check the address on the account ends in the "
            "right domain - we've seen a few typos.",
            "Sorry you're stuck. After a phone change the authenticator app needs to be set "
            "up again. I've switched your two-step sign-in back to email codes so you can get "
            "in and re-enrol the new phone.",
        ],
        questions=[
            "For security, could you confirm the postcode and the last order number on the "
            "account?",
        ],
        answers=["Postcode is on the order, last order was {order}."],
        notes=[
            "Identity verified by order number + postcode. Reset 2FA to email.",
            "Reset emails bouncing: mailbox full at the customer's provider.",
        ],
        resolutions=["You're back in - thanks for confirming. I'll close this off."],
        tags=["login", "2fa"],
        priorities=["normal", "high"],
    ),
    Scenario(
        key="complaint",
        category="complaint",
        subjects=[
            "Very disappointed with your service",
            "Formal complaint",
            "Third time asking about the same problem",
        ],
        openings=[
            "This is the third time I'm writing about my {product}. Every time someone "
            "promises to call back and nobody does. I've spent {days} days without a working "
            "{product} and hours on hold. I want this escalated to a manager.",
            "I'm writing to make a formal complaint. The replacement {product} you sent has "
            "the same fault as the first one, and the last agent closed my case without "
            "asking me. I expect an explanation and compensation.",
        ],
        short=["3rd time asking. nobody calls back. escalate this please"],
        replies=[
            "I'm sorry - you shouldn't have had to chase us. I've read back through your "
            "previous cases and I'm taking personal ownership of this one; you'll hear from "
            "me, not a queue.",
            "Thank you for taking the time to write, and I apologise. You're right that the "
            "earlier case was closed without your confirmation. I've escalated this to our "
            "tier 2 team with the full history.",
        ],
        questions=[
            "Would a full refund of {amount} or a replacement with the newer model be the "
            "better outcome for you?",
        ],
        answers=[
            "The newer model, if it actually works.",
            "Honestly, a refund. I've lost confidence in the product.",
        ],
        notes=[
            "Goodwill above tier 1 limit requested. Customer lost {days} days of use; "
            "suggest refund + {goodwill} voucher.",
            "Called the customer, listened for 15 minutes; they mostly want acknowledgement "
            "that we got it wrong. Agreed next step by Friday.",
        ],
        resolutions=[
            "As promised: a new {product} (the current model) ships today, and I've added "
            "a {goodwill} voucher to your account for the trouble.",
            "Your refund of {amount} has been processed and I've added a {goodwill} "
            "voucher. Thank you for your patience with us.",
        ],
        tags=["complaint", "goodwill"],
        priorities=["high", "urgent", "high"],
        escalates=True,
    ),
    Scenario(
        key="address-change",
        category="delivery",
        subjects=["Change delivery address for {order}", "Wrong address on my order"],
        openings=[
            "I've just noticed my order {order} is going to my old flat. Can you change the "
            "address before it ships? The new address is on my account.",
        ],
        short=["can you change the address on {order}? it's going to my old place"],
        replies=[
            "Thanks for catching it early. Order {order} hadn't left the warehouse yet, so "
            "I've updated the delivery address.",
        ],
        questions=["Could you confirm the new address including the postcode?"],
        answers=["Flat 3, 21 Mill Street, {city}. Postcode is on my account."],
        notes=["Warehouse confirmed address change before picking."],
        resolutions=[
            "Done - order {order} will go to the new address. You'll get tracking from "
            "{carrier} once it ships.",
        ],
        tags=["address-change"],
        priorities=["normal", "high"],
    ),
    Scenario(
        key="product-question",
        category="technical",
        subjects=[
            "Question about the {product}",
            "Is the {product} compatible with my setup?",
        ],
        openings=[
            "Before I buy: does the {product} work without the app, and can two people in "
            "the house control it?",
            "Can the {product} be used with a 110 V socket? I'm moving abroad next month.",
        ],
        short=["quick q - does {product} work without the app?"],
        replies=[
            "Good question. The {product} works with its buttons on its own; the app adds "
            "schedules and remote control, and you can invite up to five household members.",
        ],
        questions=["Which country are you moving to? Plug types vary."],
        answers=["Canada."],
        notes=["Pre-sales question, no order yet."],
        resolutions=["Happy to help - enjoy the {product}!"],
        tags=["pre-sales"],
        priorities=["low", "low", "normal"],
    ),
]

CUSTOMER_THANKS = [
    "That's sorted, thank you {agent}!",
    "Thanks, that worked.",
    "Received it today. Thanks for the help.",
    "Great, thank you for sorting this so quickly.",
    "Perfect, all good now.",
]
CUSTOMER_CHASERS = [
    "Any update on this? It's been a couple of days.",
    "Hello? Still waiting to hear back.",
    "Just checking in on this - is anyone looking at it?",
]
CUSTOMER_REOPEN = [
    "Sorry, it's happening again - same problem as before.",
    "I spoke too soon: it stopped working again this morning.",
    "The refund still isn't on my statement, so this isn't solved.",
]
AGENT_PENDING_INTERNAL = [
    "I've passed this to {team} with everything you've told me. I'll come back to you as "
    "soon as they've confirmed - by {weekday} at the latest.",
    "I'm waiting on our warehouse to confirm the stock check. I'll update you tomorrow even "
    "if there's no news yet.",
]
HANDOVER_NOTES = [
    "Handing over to {next_agent}: I'm off for the rest of the week. The customer prefers "
    "email to phone calls; everything else is in the thread.",
    "Shift handover to {next_agent}. Next step: send the outcome below and confirm the "
    "customer is happy before solving.",
]
CLOSING_NOTE = "Closed after the customer confirmed the fix."
PLANS = ["Northwind Plus", "Northwind Plus annual", "filter subscription"]
GOODWILL = ["£20", "£25", "£30", "£50"]

# What customers add to a rating, by score.
RATING_COMMENTS: dict[int, list[str]] = {
    1: ["Nobody read what I wrote.", "Took far too long and I had to chase twice."],
    2: ["Solved in the end, but I had to explain it three times.", "Slow replies."],
    3: ["Fine, nothing special.", "It took a while but it's sorted."],
    4: ["Quick and friendly.", "Good, thanks for the refund.", ""],
    5: ["Brilliant, sorted in one reply!", "Really helpful, thank you.", ""],
}

# Recurring problems on the demo desk: a fault fixed for good, a known error announced to
# customers, and today's burst that detection finds.
HINGE_CASES = [
    (
        "Kettle lid cracked at the hinge",
        "The lid of my Aurora kettle cracked right at the hinge after two weeks. It no longer "
        "closes, so the kettle won't switch off by itself.",
    ),
    (
        "Aurora kettle lid broken",
        "The hinge of the kettle lid has snapped. I only open it to fill it. Can I get a new lid?",
    ),
    (
        "Lid hinge on my kettle split",
        "My Aurora 1.7 L kettle: the plastic at the lid hinge has split and the lid hangs loose.",
    ),
    (
        "Cracked kettle lid",
        "Crack along the hinge of the kettle lid, three weeks after delivery. Is this covered?",
    ),
    (
        "Kettle lid won't stay shut",
        "The hinge on the Aurora kettle lid cracked and now the lid won't stay shut while it "
        "boils.",
    ),
]
HINGE_WHY = [
    "Kettle lids crack at the hinge within a month",
    "The hinge pin presses on a thin wall of the lid",
    "The spring of the spring-loaded hinge is stiffer in the newest batch",
    "The supplier changed the spring without telling us; incoming checks test the lid, "
    "not the spring",
]
HINGE_FIX = (
    "The supplier is back on the original spring, every lid in stock has been swapped, and "
    "our incoming checks now test the hinge spring."
)
THERMOSTAT_CASES = [
    (
        "Thermostat offline since the update",
        "Since the thermostat updated itself to 2.3 it keeps dropping off the Wi-Fi every "
        "evening and the app says offline.",
    ),
    (
        "Vela thermostat keeps disconnecting",
        "My Vela thermostat disconnects from Wi-Fi a few times a day since the update.",
    ),
    (
        "Wi-Fi drops on the Vela",
        "After firmware 2.3 the thermostat loses the Wi-Fi connection; restarting the router "
        "helps for an hour.",
    ),
    (
        "Smart thermostat says offline",
        "The Vela smart thermostat shows offline in the app since last week's update.",
    ),
]
THERMOSTAT_WHY = [
    "Thermostats on firmware 2.3 drop off Wi-Fi",
    "They lose the connection when the router moves them between 2.4 and 5 GHz",
    "Firmware 2.3 does not rejoin after a band-steering switch",
]
THERMOSTAT_PUBLIC = (
    "Some Vela thermostats on firmware 2.3 lose their Wi-Fi connection. Heating keeps "
    "working on the last schedule. Until the fix is out, joining the thermostat to your "
    "router's 2.4 GHz network keeps it connected."
)
DISCOUNT_BURST = [
    (
        "Discount code WINTER20 not accepted",
        "The discount code WINTER20 from your newsletter is rejected at checkout: it says the "
        "code is not valid.",
    ),
    (
        "WINTER20 code says invalid",
        "I tried the WINTER20 discount code at checkout and it says invalid code. It should be "
        "valid until the end of the month.",
    ),
    (
        "Newsletter discount code rejected",
        "Your newsletter discount code WINTER20 is rejected at checkout as not valid.",
    ),
    (
        "Checkout refuses my discount code",
        "Checkout refuses the WINTER20 discount code: code not valid. Can you apply it for me?",
    ),
    (
        "Discount code invalid at checkout",
        "The WINTER20 discount code is invalid at checkout even though the email says it runs "
        "all month.",
    ),
    (
        "Problem with code WINTER20",
        "Discount code WINTER20 rejected at checkout, message says the code is not valid.",
    ),
    (
        "Can't use my discount",
        "At checkout the discount code WINTER20 is rejected as not valid. I haven't ordered yet.",
    ),
]
