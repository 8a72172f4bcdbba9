"""API schemas for people: a reference to a user, as every endpoint names one."""

from __future__ import annotations

from ninja import Schema


class UserRef(Schema):
    id: int
    username: str
    name: str

    @staticmethod
    def of(user) -> dict | None:
        if user is None:
            return None
        return {"id": user.pk, "username": user.username, "name": user.display_name}
