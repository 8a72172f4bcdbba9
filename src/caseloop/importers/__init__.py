"""Bringing a team's history over from another desk: Zendesk, Freshdesk, Zammad or CSV."""
