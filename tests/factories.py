from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts import services
from accounts.models import ApiKey, Membership, Organization, User
from accounts.roles import Role

PASSWORD = "correct horse battery"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    display_name = factory.Faker("name")
    timezone = "Europe/Berlin"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, password=PASSWORD, **kwargs)


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")
    timezone = "Europe/Berlin"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


def make_api_key(
    org: Organization, role: str = Role.ADMIN, name: str = "test"
) -> tuple[ApiKey, str]:
    created = services.api_key_create(
        org=org, name=name, role=role, created_by=None, granter_role=None
    )
    return created.api_key, created.plain
