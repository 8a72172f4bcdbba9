"""Notifications: what needs a person's attention (a case escalated or routed to them, a
question returned, a customer's reply, a mention in a note, an SLA warning, a department's
answer), live in the desk and as an email digest; and the people following a case."""
