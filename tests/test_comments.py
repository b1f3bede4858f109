"""Comments and @mentions on any subject: pages (htmx and plain), history of edits and
deletions, notifications (once, members only), the API, tenancy and constant queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey, AuditEntry, Membership
from accounts.roles import Role
from engagements import services as engagement_services
from followup.engine import comments
from followup.engine import services as followup_services
from followup.engine.models import Comment, CommentRevision, Notification
from tests.engagements.factories import make_customer, make_engagement
from tests.factories import MembershipFactory
from tests.utils import assert_constant_queries

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ann(org):
    return MembershipFactory(
        organization=org,
        role=Role.MEMBER,
        user__email="ann@acme.test",
        user__display_name="Ann Lee",
    ).user


@pytest.fixture
def customer(org):
    return make_customer(org, name="Lumen Retail Group")


def _post(client, subject_type, subject, body, **extra):
    return client.post(
        "/o/acme/comments/",
        {"subject_type": subject_type, "subject_id": str(subject.pk), "body": body},
        **extra,
    )


def _mentions(user):
    return Notification.objects.filter(recipient=user, kind="comment.mentioned")


def test_a_comment_on_a_customer_reads_safely(member_client, customer):
    body = "Call went well.\nSee https://example.test/notes <script>alert(1)</script>"
    response = _post(member_client, "customer", customer, body)
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/acme/customers/{customer.pk}/#comment-{comment.pk}"
    page = member_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert 'id="comments"' in page and 'id="comment-' in page
    assert "Call went well.<br>See" in page
    assert 'href="https://example.test/notes" rel="nofollow"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_htmx_swaps_the_panel(member_client, customer):
    response = _post(member_client, "customer", customer, "From htmx", **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert '<section class="comments" id="comments"' in body and "From htmx" in body


def test_an_empty_comment_is_refused_and_kept_in_the_form(member_client, customer):
    body = _post(member_client, "customer", customer, "   ", **HTMX).content.decode()
    assert "Write something first." in body
    assert not Comment.objects.exists()


def test_a_mention_notifies_once_also_when_edited(member_client, member, ann, owner, customer):
    _post(member_client, "customer", customer, "@Ann Lee can you call them? cc @ann Lee")
    comment = Comment.objects.get()
    assert comment.mentions == [str(ann.pk)]
    (note,) = _mentions(ann)
    assert note.params["author"] == member.name and note.params["subject"] == customer.name
    assert note.url == f"/o/acme/customers/{customer.pk}/#comment-{comment.pk}"
    # An edit that keeps Ann and adds the owner (by e-mail) notifies only the owner.
    edit = f"/o/acme/comments/{comment.pk}/edit/"
    member_client.post(edit, {"body": "@Ann Lee and @owner@acme.test, please call."})
    member_client.post(edit, {"body": "@Ann Lee and @owner@acme.test, please call today."})
    assert _mentions(ann).count() == 1 and _mentions(owner).count() == 1


def test_mentions_never_reach_non_members_or_the_author(
    member_client, member, outsider, ann, org, customer
):
    Membership.objects.for_org(org).filter(user=ann).delete()  # Ann left the organization
    _post(
        member_client,
        "customer",
        customer,
        f"@{outsider.name} @{outsider.email} @Ann Lee @{member.email} mail me at x@acme.test",
    )
    assert Comment.objects.get().mentions == [str(member.pk)]
    assert not Notification.objects.filter(kind="comment.mentioned").exists()


def test_mention_words_inside_other_words_are_not_mentions(ann, member):
    assert comments.mentioned("write to bob@Ann Lee", [ann]) == []
    assert comments.mentioned("@Ann Leeway", [ann]) == []
    assert comments.mentioned("(@ann lee)", [ann]) == [ann]


def test_edits_keep_their_history(member_client, customer):
    _post(member_client, "customer", customer, "First words")
    comment = Comment.objects.get()
    response = member_client.post(
        f"/o/acme/comments/{comment.pk}/edit/", {"body": "Second words"}, **HTMX
    )
    assert response.status_code == 200 and "Second words" in response.content.decode()
    comment.refresh_from_db()
    assert comment.edited_at is not None
    assert list(CommentRevision.objects.values_list("body", flat=True)) == ["First words"]
    page = member_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert "edited" in page and "Edited 1 time: earlier text" in page and "First words" in page
    assert AuditEntry.objects.filter(action="comment.updated").count() == 1


def test_only_the_author_edits(member_client, owner_client, customer):
    _post(member_client, "customer", customer, "Mine")
    comment = Comment.objects.get()
    assert (
        owner_client.post(f"/o/acme/comments/{comment.pk}/edit/", {"body": "Theirs"}).status_code
        == 403
    )
    assert owner_client.get(f"/o/acme/comments/{comment.pk}/edit/").status_code == 200
    comment.refresh_from_db()
    assert comment.body == "Mine"


def test_deleting_leaves_a_trace(member_client, owner_client, org, ann, customer):
    _post(member_client, "customer", customer, "Oops @Ann Lee")
    comment = Comment.objects.get()
    from django.test import Client

    ann_client = Client()
    ann_client.force_login(ann)
    assert ann_client.post(f"/o/acme/comments/{comment.pk}/delete/").status_code == 403
    response = owner_client.post(f"/o/acme/comments/{comment.pk}/delete/", **HTMX)
    assert response.status_code == 200 and "deleted" in response.content.decode()
    comment.refresh_from_db()
    assert comment.deleted_at is not None and comment.body == "" and comment.mentions == []
    page = member_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert "Oops" not in page and "Deleted by" in page
    assert AuditEntry.objects.filter(action="comment.deleted").count() == 1
    # Deleted is final: no edit, no second deletion.
    assert (
        member_client.post(f"/o/acme/comments/{comment.pk}/edit/", {"body": "back"}).status_code
        == 403
    )


def test_viewers_read_but_do_not_write(viewer_client, member_client, customer):
    _post(member_client, "customer", customer, "Visible to viewers")
    page = viewer_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert "Visible to viewers" in page and 'action="/o/acme/comments/"' not in page
    assert _post(viewer_client, "customer", customer, "No").status_code == 403


def test_engagements_and_follow_ups_have_comments(member_client, org, member, customer):
    engagement = make_engagement(org, customer=customer)
    followup = followup_services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now() + timedelta(1)
    )
    _post(member_client, "engagement", engagement, "On the engagement")
    _post(member_client, "followup", followup, "On the follow-up")
    page = member_client.get(f"/o/acme/engagements/{engagement.pk}/").content.decode()
    assert "On the engagement" in page and "On the follow-up" not in page
    page = member_client.get(f"/o/acme/followups/{followup.pk}/").content.decode()
    assert "On the follow-up" in page and "History" in page


def test_a_follow_up_is_not_what_a_follow_up_is_about(member_client, org, member):
    from django.core.exceptions import ValidationError

    from followup.kernel import subjects

    followup = followup_services.followup_create(
        org=org, actor=member, title="Call", owner=member, due_at=timezone.now() + timedelta(1)
    )
    with pytest.raises(ValidationError):
        subjects.resolve(org, "followup", followup.pk)
    assert subjects.resolve(org, "followup", followup.pk, any_subject=True) == followup


def test_foreign_subjects_are_refused(outsider_client, customer):
    response = outsider_client.post(
        "/o/globex/comments/",
        {"subject_type": "customer", "subject_id": str(customer.pk), "body": "Hi"},
    )
    assert response.status_code == 400 and not Comment.objects.exists()
    assert _post(outsider_client, "nope", customer, "Hi").status_code == 404  # not a member


def test_deleting_the_subject_deletes_its_comments(member_client, org, customer):
    _post(member_client, "customer", customer, "Gone soon")
    engagement_services.customer_delete(org=org, actor=None, customer=customer)
    assert not Comment.objects.exists()


def test_the_panel_keeps_constant_queries(member_client, member, ann, org, customer):
    def make_rows(n):
        for i in range(n):
            comment = comments.comment_post(
                org=org,
                writer=comments.Writer(user=member),
                subject=customer,
                body=f"Note {i} for @Ann Lee https://example.test/{i}",
            )
            comments.comment_edit(
                org=org, writer=comments.Writer(user=member), comment=comment, body=f"{i} @Ann Lee"
            )

    assert_constant_queries(
        make_rows, lambda: member_client.get(f"/o/acme/customers/{customer.pk}/")
    )


def test_the_mention_list_offers_members_only(member_client, ann, outsider):
    data = member_client.get("/o/acme/comments/mentions/", {"q": "Ann L"}).json()["results"]
    assert [p["name"] for p in data] == ["Ann Lee"] and data[0]["insert"] == "@Ann Lee"
    names = [p["email"] for p in member_client.get("/o/acme/comments/mentions/").json()["results"]]
    assert outsider.email not in names and "ann@acme.test" in names


# --- API ---------------------------------------------------------------------------------------


@pytest.fixture
def key_person(org, member):
    ApiKey.objects.for_org(org).update(created_by=member)
    return member


def test_api_create_list_edit_and_delete(member_api, key_person, ann, org, customer):
    response = member_api.post(
        "/api/v1/comments/",
        {"subject_type": "customer", "subject_id": str(customer.pk), "body": "Via API @Ann Lee"},
        format="json",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["author"] == str(key_person.pk) and data["mentions"] == [str(ann.pk)]
    assert data["url"].endswith(f"/o/acme/customers/{customer.pk}/#comment-{data['id']}")
    assert _mentions(ann).count() == 1
    listed = member_api.get(
        f"/api/v1/comments/?subject_type=customer&subject_id={customer.pk}"
    ).json()
    assert [c["body"] for c in listed["results"]] == ["Via API @Ann Lee"]
    response = member_api.patch(
        f"/api/v1/comments/{data['id']}/", {"body": "Edited via API"}, format="json"
    )
    assert response.status_code == 200 and response.json()["edited_at"]
    assert member_api.delete(f"/api/v1/comments/{data['id']}/").status_code == 204
    (row,) = member_api.get("/api/v1/comments/").json()["results"]
    assert row["deleted_at"] and row["body"] == ""


def test_api_edits_only_the_authors(api, member_api, key_person, org, owner, customer):
    comment = comments.comment_post(
        org=org, writer=comments.Writer(user=owner), subject=customer, body="Owner's"
    )
    response = member_api.patch(f"/api/v1/comments/{comment.pk}/", {"body": "x"}, format="json")
    assert response.status_code == 403
    assert member_api.delete(f"/api/v1/comments/{comment.pk}/").status_code == 403


def test_api_refuses_foreign_subjects_and_viewers(viewer_api, outsider_api, member_api, customer):
    body = {"subject_type": "customer", "subject_id": str(customer.pk), "body": "x"}
    assert outsider_api.post("/api/v1/comments/", body, format="json").status_code == 400
    assert viewer_api.post("/api/v1/comments/", body, format="json").status_code == 403
    body["subject_type"] = "unknown"
    assert member_api.post("/api/v1/comments/", body, format="json").status_code == 400


def test_api_list_keeps_constant_queries(member_api, key_person, org, customer):
    def make_rows(n):
        for i in range(n):
            comments.comment_post(
                org=org, writer=comments.Writer(user=key_person), subject=customer, body=f"{i}"
            )

    assert_constant_queries(make_rows, lambda: member_api.get("/api/v1/comments/?page_size=100"))
