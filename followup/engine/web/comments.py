"""Comments on a subject's page: post, edit, delete (htmx swaps the panel or the one
comment; without JavaScript every form posts and redirects back), and the members a
``@`` can mention (a small JSON list for the autocomplete)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from accounts.mixins import OrgViewMixin
from accounts.models import Membership
from accounts.requests import OrgRequest
from followup.engine import comments
from followup.engine.models import Comment
from followup.kernel import subjects

PANEL = "followup/partials/comments.html"
WRITE = {"POST": "records.edit"}
MENTION_LIMIT = 8


def _decorate(request: OrgRequest, rows: list[Comment]) -> list[Comment]:
    """Each comment with its HTML, author's name and what this person may do with it."""
    people = comments.mentioned_people(request.org, rows)
    writer = comments.Writer(user=request.user)
    for c in rows:
        c.html = comments.render_body(c, people)  # type: ignore[attr-defined]
        c.author_name = comments.author_name(c)  # type: ignore[attr-defined]
        c.can_edit = comments.may_edit(c, writer)  # type: ignore[attr-defined]
        c.can_delete = comments.may_delete(  # type: ignore[attr-defined]
            c, writer, moderator=request.membership.can("records.delete")
        )
    return rows


def panel_context(
    request: OrgRequest, subject: models.Model, *, body: str = "", error: str = ""
) -> dict[str, Any]:
    entry = subjects.for_model(type(subject))
    if entry is None:
        raise ValueError(f"{type(subject).__name__} is not a registered subject")
    rows = _decorate(request, list(comments.for_subject(request.org, subject)))
    return {
        "request": request,
        "org": request.org,
        "membership": request.membership,
        "subject_key": entry.key,
        "subject_id": subject.pk,
        "subject_url": entry.url(subject),
        "items": rows,
        "count": sum(1 for c in rows if not c.is_deleted),
        "can_comment": request.membership.can("records.edit"),
        "body": body,
        "error": error,
    }


def _panel(request: OrgRequest, subject: models.Model, **kwargs: Any) -> HttpResponse:
    response: HttpResponse = render(request, PANEL, panel_context(request, subject, **kwargs))
    return response


def _item(
    request: OrgRequest, comment: Comment, *, editing: bool = False, **extra: Any
) -> HttpResponse:
    (comment,) = _decorate(request, [comment])
    context = {"c": comment, "request": request, "editing": editing, **extra}
    response: HttpResponse = render(request, f"{PANEL}#comment-item", context)
    return response


def _subject(request: OrgRequest, comment: Comment) -> models.Model | None:
    try:
        return subjects.resolve(
            request.org, comment.subject_type, comment.subject_id, any_subject=True
        )
    except ValidationError:
        return None


class CommentCreateView(OrgViewMixin, View):
    capabilities = WRITE

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        try:
            subject = subjects.resolve(
                req.org,
                request.POST.get("subject_type", ""),
                request.POST.get("subject_id", ""),
                any_subject=True,
            )
        except ValidationError as exc:
            return HttpResponse(" ".join(exc.messages), status=400, content_type="text/plain")
        body = request.POST.get("body", "")
        try:
            comment = comments.comment_post(
                org=req.org, writer=comments.Writer(user=req.user), subject=subject, body=body
            )
        except ValidationError as exc:
            if req.htmx:
                return _panel(req, subject, body=body, error=" ".join(exc.messages))
            messages.error(request, " ".join(exc.messages))
            return redirect(subjects.for_model(type(subject)).url(subject) + "#comments")  # type: ignore[union-attr]
        if req.htmx:
            return _panel(req, subject)
        return redirect(comments.subject_url(req.org, comment, subject))


class CommentEditView(OrgViewMixin, TemplateView):
    """GET: the comment with its text in a form (htmx: in place); POST: save the new text."""

    template_name = "followup/comment_edit.html"
    capabilities = {"GET": "records.edit", "HEAD": "records.edit", "POST": "records.edit"}
    model = Comment

    def scope_queryset(self, queryset: Any) -> Any:
        return queryset.select_related("author")

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        comment = self.get_object()
        assert isinstance(comment, Comment)
        editing = not request.GET.get("cancel")
        if req.htmx:
            return _item(req, comment, editing=editing)
        (comment,) = _decorate(req, [comment])
        return self.render_to_response(
            self.get_context_data(c=comment, body=comment.body, back=self._back(comment))
        )

    def _back(self, comment: Comment) -> str:
        return comments.subject_url(self.org, comment, _subject(self.org_request, comment))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        comment = self.get_object()
        assert isinstance(comment, Comment)
        body = request.POST.get("body", "")
        try:
            comment = comments.comment_edit(
                org=req.org, writer=comments.Writer(user=req.user), comment=comment, body=body
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
            if req.htmx:
                return _item(req, comment, editing=True, body=body, error=error)
            (comment,) = _decorate(req, [comment])
            context = self.get_context_data(
                c=comment, body=body, error=error, back=self._back(comment)
            )
            return self.render_to_response(context, status=400)
        if req.htmx:
            return _item(req, comment)
        messages.success(request, _("Comment saved."))
        return redirect(self._back(comment))


class CommentDeleteView(OrgViewMixin, View):
    capabilities = WRITE
    model = Comment

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        comment = self.get_object()
        assert isinstance(comment, Comment)
        comment = comments.comment_delete(
            org=req.org, writer=comments.Writer(user=req.user), comment=comment
        )
        if req.htmx:
            return _item(req, comment)
        messages.success(request, _("Comment deleted."))
        return redirect(comments.subject_url(req.org, comment, _subject(req, comment)))


class MentionSearchView(OrgViewMixin, View):
    """``?q=`` → the members whose name or e-mail address starts a word with it (JSON)."""

    capabilities = {"GET": "members.view", "HEAD": "members.view"}

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        req = self.org_request
        query = request.GET.get("q", "").strip()[:50]
        rows = (
            Membership.objects.for_org(req.org).select_related("user").filter(user__is_active=True)
        )
        if query:
            rows = rows.filter(
                Q(user__display_name__istartswith=query)
                | Q(user__display_name__icontains=f" {query}")
                | Q(user__email__istartswith=query)
            )
        people = [m.user for m in rows.order_by("user__display_name", "user__email")]
        response = JsonResponse(
            {
                "results": [
                    {"id": str(u.pk), "name": u.name, "email": u.email, "insert": f"@{u.name}"}
                    for u in people[:MENTION_LIMIT]
                ]
            }
        )
        response["Cache-Control"] = "private, no-store"
        return response
