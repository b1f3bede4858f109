from accounts import services
from accounts.roles import Role
from tests.factories import MembershipFactory, make_api_key
from tests.tenancy import Target, World, register


def _member(world: World):
    return world.once(
        "member",
        lambda: MembershipFactory(
            organization=world.org_a, role=Role.MEMBER, user__email="secret-member@alpha.test"
        ),
    )


def _api_key(world: World):
    return world.once(
        "api_key", lambda: make_api_key(world.org_a, Role.MEMBER, name="alpha-crm")[0]
    )


def _invitation(world: World):
    from accounts.models import Membership

    def make():
        actor = Membership.objects.for_org(world.org_a).get(user=world.owner_a)
        return services.invitation_send(
            actor=actor, email="invitee@alpha.test", role=Role.MEMBER
        ).invitation

    return world.once("invitation", make)


def member_list(world):
    return Target({}, _member(world).user.email)


def member_detail(world):
    member = _member(world)
    return Target({"pk": member.pk}, str(member.pk))


def key_list(world):
    return Target({}, _api_key(world).prefix)


def key_detail(world):
    key = _api_key(world)
    return Target({"pk": key.pk}, key.prefix)


register("member-list", make=member_list)
register(
    "accounts:members",
    make=member_list,
    body=lambda w: {"email": "newcomer@alpha.test", "role": Role.MEMBER},
    body_names_org_a=False,
)
register("member-detail", make=member_detail)
register("accounts:member_role", make=member_detail, body=lambda w: {"role": Role.VIEWER})
register("accounts:member_remove", make=member_detail)
register("member-remove", make=member_detail, body=lambda w: {"hand_over_to": str(w.owner_a.pk)})
register(
    "api-key-list",
    "accounts:api_keys",
    make=key_list,
    body=lambda w: {"name": "another", "role": Role.MEMBER},
    body_names_org_a=False,
)
register("api-key-detail", make=key_detail, body=lambda w: {"name": "renamed"})
register("accounts:api_key_revoke", make=key_detail)
register(
    "accounts:invitation_revoke",
    make=lambda w: Target({"pk": _invitation(w).pk}, _invitation(w).email),
)


def _audited(world: World):
    def make():
        from accounts import audit

        return audit.record(
            org=world.org_a,
            action="organization.updated",
            actor=world.owner_a,
            obj=world.org_a,
            changes={"name": ["Alpha old", "Alpha secret name"]},
        )

    return world.once("audit", make)


register(
    "accounts:audit_log",
    make=lambda w: Target({}, _audited(w).changes["name"][1]),
)
register("home", make=lambda w: Target({}, w.org_a.name))
register(
    "accounts:organization_settings",
    make=lambda w: Target({}, w.org_a.name),
    body=lambda w: {"name": "Renamed Org", "timezone": "UTC"},
    body_names_org_a=False,
)
