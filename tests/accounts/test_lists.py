from accounts.roles import Role
from tests.factories import MembershipFactory, make_api_key
from tests.utils import assert_constant_queries


def test_members_page_queries_do_not_grow_with_rows(owner_client, org):
    assert_constant_queries(
        lambda n: [MembershipFactory(organization=org, role=Role.MEMBER) for _ in range(n)],
        lambda: owner_client.get("/o/acme/members/"),
    )


def test_members_api_queries_do_not_grow_with_rows(api, org):
    assert_constant_queries(
        lambda n: [MembershipFactory(organization=org) for _ in range(n)],
        lambda: api.get("/api/v1/members/?page_size=100"),
    )


def test_api_keys_page_and_api_queries_do_not_grow_with_rows(owner_client, api, org):
    make = lambda n: [make_api_key(org, Role.MEMBER) for _ in range(n)]  # noqa: E731
    assert_constant_queries(make, lambda: owner_client.get("/o/acme/api-keys/"))
    assert_constant_queries(make, lambda: api.get("/api/v1/api-keys/?page_size=200"))
