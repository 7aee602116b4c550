"""The demo's people: who they are, their password and the login table.

Demo people (password "demo" for all):

    rita    release manager          eli     engineer (deploys)
    quinn   QA                       paula   product owner
    adrian  approver (tech lead)     ana     approver
    cora    emergency approver and approver (CTO)
    audrey  auditor                  adele   project admin
    otto    release manager of the second project "Mobile App" only

``seed_demo`` prints the login table after seeding, and ``runall``'s start-up
banner shows it for the demo people that exist in the database.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User

from projects.choices import Role

DEMO_PASSWORD = "demo"  # noqa: S105 - demo accounts on a local development server

# username, first name, last name, roles in Storefront (in this order), description for the login table
DEMO_PEOPLE: tuple[tuple[str, str, str, tuple[str, ...], str], ...] = (
    ("rita", "Rita", "Ramos", (Role.RELEASE_MANAGER,), "release manager"),
    ("eli", "Eli", "Okafor", (Role.ENGINEER,), "engineer"),
    ("quinn", "Quinn", "Larsen", (Role.QA,), "QA"),
    ("paula", "Paula", "Meier", (Role.PRODUCT_OWNER,), "product owner"),
    ("adrian", "Adrian", "Novak", (Role.APPROVER,), "approver (tech lead)"),
    ("ana", "Ana", "Silva", (Role.APPROVER,), "approver"),
    (
        "cora",
        "Cora",
        "Lindqvist",
        (Role.EMERGENCY_APPROVER, Role.APPROVER),
        "emergency approver (CTO)",
    ),
    ("audrey", "Audrey", "Kim", (Role.AUDITOR,), "auditor (reads everything)"),
    ("adele", "Adele", "Moreau", (Role.ADMIN,), "project admin"),
    ("otto", "Otto", "Berg", (), "release manager of Mobile App only"),
)


def person_get_or_create(username: str, first: str, last: str) -> tuple[User, bool]:
    """The demo person ``username`` (created with the demo password if missing), and whether
    it was created."""
    users = get_user_model()
    user = users.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = users(
        username=username, first_name=first, last_name=last, email=f"{username}@example.com"
    )
    user.set_password(DEMO_PASSWORD)
    user.save()
    return user, True


def login_table() -> list[tuple[str, str]]:
    """(username, what they do) for the start-up banner and ``seed_demo``'s output."""
    return [(username, about) for username, *_rest, about in DEMO_PEOPLE]
