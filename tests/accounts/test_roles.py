"""The permission map, without a database."""

from itertools import pairwise

import pytest

from accounts.roles import ALL_CAPABILITIES, CAPABILITIES, Role, can_grant, role_can


def test_viewers_read_but_never_write():
    assert role_can(Role.VIEWER, "records.view")
    assert not role_can(Role.VIEWER, "records.edit")


def test_members_write_records_but_do_not_manage_people():
    assert role_can(Role.MEMBER, "records.edit")
    assert not role_can(Role.MEMBER, "members.manage")
    assert not role_can(Role.MEMBER, "apikeys.manage")


def test_managers_see_the_team_but_do_not_manage_members():
    assert role_can(Role.MANAGER, "team.view")
    assert not role_can(Role.MANAGER, "members.manage")


def test_each_role_can_do_what_the_one_below_can():
    order = [Role.VIEWER, Role.MEMBER, Role.MANAGER, Role.ADMIN, Role.OWNER]
    for lower, higher in pairwise(order):
        assert CAPABILITIES[lower] <= CAPABILITIES[higher]


def test_only_owners_make_owners():
    assert can_grant(Role.OWNER, Role.OWNER)
    assert not can_grant(Role.ADMIN, Role.OWNER)
    assert can_grant(Role.ADMIN, Role.ADMIN)
    assert not can_grant(Role.MANAGER, Role.MEMBER)


def test_an_unknown_capability_is_a_bug_not_a_denial():
    with pytest.raises(KeyError):
        role_can(Role.OWNER, "records.edti")
    assert "records.edit" in ALL_CAPABILITIES
