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

    @staticmethod
    def of_values(pk: int | None, username: str, first_name: str, last_name: str) -> dict | None:
        """`of` from the user's columns (None for no user); `name` is `User.display_name`."""
        if pk is None:
            return None
        return {
            "id": pk,
            "username": username,
            "name": f"{first_name} {last_name}".strip() or username,
        }
