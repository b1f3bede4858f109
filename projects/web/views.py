"""Pages of project follow-up. Thin: forms in, services and selectors out.

Every page works as plain links and form posts; with htmx, the outline editor, the gate
panel and the Gantt swap the part of the page that changed (``{% partialdef %}``).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import DetailView, TemplateView
from django_htmx.http import HttpResponseClientRedirect

from accounts.mixins import OrgViewMixin
from accounts.requests import OrgRequest
from accounts.tenancy import access_by_id
from followup.engine.models import FollowUpStatus
from followup.engine.selectors import for_subject, with_subjects
from projects import change_guard, gates, selectors, services
from projects.models import (
    BaselineItem,
    Decision,
    Dependency,
    GateCriterion,
    PhaseTemplate,
    PhaseTransition,
    Project,
    ProjectStatus,
    TemplateCriterion,
    TemplatePhase,
    WorkItem,
)
from projects.web import control_views, gantt
from projects.web.forms import (
    AddItemForm,
    AttestForm,
    CalendarForm,
    CriterionForm,
    DecisionForm,
    DependencyForm,
    PasteForm,
    ProjectFilterForm,
    ProjectForm,
    TemplateForm,
    TemplatePhaseForm,
    WorkItemForm,
)

VIEW = {"GET": "records.view", "HEAD": "records.view"}
EDIT = {"GET": "records.edit", "HEAD": "records.edit", "POST": "records.edit"}
VIEW_POST_EDIT = {**VIEW, "POST": "records.edit"}
POST_EDIT = {"POST": "records.edit"}
ADMIN_EDITS = {**VIEW, "POST": "org.manage"}
PAGE_SIZE = 50
STATUS_BADGE = {
    ProjectStatus.PROPOSED: "neutral",
    ProjectStatus.ACTIVE: "green",
    ProjectStatus.ON_HOLD: "amber",
    ProjectStatus.CLOSED: "plain",
    ProjectStatus.CANCELLED: "red",
}


def _errors_into(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _project_url(org_slug: str, project: Project | Any, name: str = "project_detail") -> str:
    pk = project.pk if isinstance(project, Project) else project
    return reverse(f"projects:{name}", kwargs={"org_slug": org_slug, "pk": pk})


def _followups(org: Any, subject: Any) -> list[Any]:
    rows = for_subject(org, subject).filter(status=FollowUpStatus.OPEN).order_by("due_at", "pk")
    return with_subjects(org, rows[:20])


def status_badge(status: str) -> str:
    return STATUS_BADGE.get(ProjectStatus(status), "neutral")


# --- Project list, create, edit -------------------------------------------------------------


class ProjectListView(OrgViewMixin, TemplateView):
    template_name = "projects/project_list.html"
    capabilities = VIEW
    model = Project

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        qs = queryset.select_related(
            "manager", "sponsor", "phase", "engagement", "engagement__customer"
        )
        return selectors.filter_projects(qs, self.filters)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        form = ProjectFilterForm(request.GET or None, org=request.org)
        self.filters = form.filters()
        page = Paginator(self.get_queryset(), PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        rows = []
        for project in page.object_list:
            slip_text, slip_badge = selectors.slip_words(project.slip_days)
            rows.append(
                {
                    "p": project,
                    "badge": status_badge(project.status),
                    "slip_text": slip_text,
                    "slip_badge": slip_badge,
                    "phase_name": selectors.display(project.phase.name) if project.phase else "",
                }
            )
        context = self.get_context_data(
            page=page,
            projects=rows,
            filter_form=form,
            query=query.urlencode(),
            can_edit=request.membership.can("records.edit"),
            can_admin=request.membership.can("org.manage"),
        )
        if request.htmx and request.htmx.target == "project-results":
            return render(request, f"{self.template_name}#results", context)
        return self.render_to_response(context)


class ProjectCreateView(OrgViewMixin, TemplateView):
    template_name = "projects/project_form.html"
    capabilities = EDIT
    model = Project

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        calendar = selectors.org_calendar(request.org)
        template = services.default_template(request.org)
        form = ProjectForm(
            org=request.org,
            initial={
                "manager": request.user.pk,
                "start_date": selectors.org_today(request.org),
                "working_days": calendar["working_days"],
                "holidays": "\n".join(calendar["holidays"]),
                "template": template.pk,
                "currency": "EUR",
            },
        )
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        services.default_template(request.org)
        form = ProjectForm(request.POST, org=request.org)
        if form.is_valid():
            try:
                project = services.project_create(
                    org=request.org,
                    actor=request.user,
                    data=form.data_for_service(),
                    template=form.cleaned_data["template"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Project %(code)s created.") % {"code": project.code})
                return redirect(_project_url(request.org.slug, project))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProjectEditView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "projects/project_form.html"
    capabilities = EDIT
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault(
            "form",
            ProjectForm(org=self.org, editing=True, initial=ProjectForm.initial_for(self.object)),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = project = cast(Project, self.get_object())
        form = ProjectForm(request.POST, org=request.org, editing=True)
        if form.is_valid():
            try:
                services.project_update(
                    org=request.org,
                    actor=request.user,
                    project=project,
                    data=form.data_for_service(),
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect(_project_url(request.org.slug, project))
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- Project page: overview, gate, decisions --------------------------------------------------


def _timeline(rows: list[PhaseTransition]) -> list[dict[str, Any]]:
    out = []
    for t in rows:
        out.append(
            {
                "t": t,
                "criteria": [
                    {
                        "label": selectors.display(c.get("label", "")),
                        "met": bool(c.get("met")),
                        "reason": gates.render_reason(c.get("reason", ""), c.get("params")),
                    }
                    for c in t.criteria or []
                ],
            }
        )
    return out


def _gate_context(
    request: OrgRequest,
    project: Project,
    *,
    form: DecisionForm | None = None,
    refused: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The phase stepper, the current gate's criteria in words, and the decision form."""
    membership = request.membership
    phases = list(project.phases.all())
    current = next((p for p in phases if p.pk == project.phase_id), None)
    criteria = list(current.criteria.all()) if current is not None else []
    states = selectors.gate_state(project, current, criteria=criteria)
    can_override = membership.can("org.manage")
    gate_rows = [
        {
            "state": s,
            "can_attest": s.attested
            and not project.is_archived
            and services.can_attest(project, s.criterion, membership),
            "can_withdraw": s.attested
            and s.criterion.attested_at is not None
            and not project.is_archived
            and (services.can_attest(project, s.criterion, membership) or can_override),
        }
        for s in states
    ]
    reached = True
    steps = []
    for phase in phases:
        is_current = phase.pk == project.phase_id
        if is_current:
            reached = False
        steps.append(
            {
                "phase": phase,
                "name": selectors.display(phase.name),
                "current": is_current,
                "done": (reached and not is_current) or project.status == ProjectStatus.CLOSED,
            }
        )
    last = bool(phases) and current is not None and phases[-1].pk == current.pk
    return {
        "steps": steps,
        "current_phase": current,
        "current_phase_name": selectors.display(current.name) if current else "",
        "gate_rows": gate_rows,
        "gate_ready": all(s.met for s in states),
        "unmet_count": sum(1 for s in states if not s.met),
        "last_phase": last,
        "decision_form": form or DecisionForm(can_override=can_override),
        "can_decide": membership.can("records.edit") and not project.is_archived,
        "can_override": can_override,
        "can_resume": membership.can("records.edit") and project.status in (ProjectStatus.ON_HOLD,),
        "refused": refused,
    }


class ProjectDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "projects/project_detail.html"
    capabilities = VIEW
    model = Project
    context_object_name = "project"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.with_project_detail(queryset, self.org)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        project: Project = self.object
        org = self.org
        today = selectors.org_today(org)
        calendar = selectors.project_calendar(project)
        slip_text, slip_badge = selectors.slip_words(project.slip_days)
        next_milestone = selectors.next_milestone(org, project)
        overdue = [
            {
                "item": item,
                "late_by": calendar.count((item.early_finish or today) + timedelta(days=1), today),
            }
            for item in selectors.overdue_milestones(org, project, today)
        ]
        criteria = [
            {
                **c,
                "index": k,
                "met_value": "" if c.get("met") is None else str(c.get("met")).lower(),
            }
            for k, c in enumerate(project.success_criteria or [])
        ]
        context.update(
            _gate_context(self.org_request, project, **kwargs.get("gate", {})),
            badge=status_badge(project.status),
            slip_text=slip_text,
            slip_badge=slip_badge,
            next_milestone=next_milestone,
            overdue_milestones=overdue,
            criteria=criteria,
            timeline=_timeline(list(selectors.transitions(org, project))),
            followups=_followups(org, project),
            now=timezone.now(),
            today=today,
            can_edit=self.membership.can("records.edit"),
            can_delete=self.membership.can("records.delete"),
            item_count=WorkItem.objects.for_org(org).filter(project=project).count(),
        )
        context.update(control_views.control_context(self.org_request, project))
        return context


class ProjectDecideView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """POST a gate decision (or ``resume``). A refused go shows why, with each unmet
    criterion; with htmx only the gate panel is swapped."""

    template_name = "projects/project_detail.html"
    capabilities = POST_EDIT
    model = Project
    context_object_name = "project"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return selectors.with_project_detail(queryset, self.org)

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        can_override = request.membership.can("org.manage")
        if request.POST.get("decision") == Decision.RESUME:
            form = DecisionForm(can_override=can_override)
            decision, note, override, reason = Decision.RESUME, "", False, ""
        else:
            form = DecisionForm(request.POST, can_override=can_override)
            if not form.is_valid():
                return self._again(project, form=form, status=400)
            d = form.cleaned_data
            decision, note = d["decision"], d["note"]
            override, reason = bool(d.get("override")), d.get("override_reason") or ""
        try:
            transition = services.project_decide(
                org=request.org,
                actor=request.user,
                project=project,
                decision=decision,
                note=note,
                override=override,
                override_reason=reason,
                can_override=can_override,
            )
        except services.GateRefused as exc:
            return self._again(project, form=form, refused=exc.as_list(), status=409)
        except services.TransitionRefused as exc:
            form.add_error(None, exc.message)
            return self._again(project, form=form, status=409)
        messages.success(request, _decision_message(transition))
        url = _project_url(request.org.slug, project)
        if request.htmx:
            return HttpResponseClientRedirect(url)  # the whole page changed: load it
        return redirect(url)

    def _again(
        self,
        project: Project,
        *,
        form: DecisionForm,
        status: int,
        refused: list[dict[str, str]] | None = None,
    ) -> HttpResponse:
        fresh = selectors.with_project_detail(Project.objects.for_org(self.org), self.org).get(
            pk=project.pk
        )
        if self.org_request.htmx:
            context = {
                "project": fresh,
                **_gate_context(self.org_request, fresh, form=form, refused=refused),
            }
            # htmx swaps 2xx answers only: the refusal is the answer, shown in the panel.
            return render(self.request, "projects/project_detail.html#gate", context)
        detail = ProjectDetailView()
        detail.setup(self.request, pk=project.pk)
        detail.object = fresh
        context = detail.get_context_data(object=fresh, gate={"form": form, "refused": refused})
        return render(self.request, self.template_name, context, status=status)


def _decision_message(t: PhaseTransition) -> str:
    if t.decision == Decision.GO and t.status_after == ProjectStatus.CLOSED:
        return _("The last gate is passed: the project is closed.")
    if t.decision == Decision.GO:
        text = _("Gate passed: the project is now in %(phase)s.") % {
            "phase": selectors.display(t.to_phase_name)
        }
        return text + (" " + _("(admin override)") if t.override else "")
    if t.decision == Decision.HOLD:
        return _("The project is on hold.")
    if t.decision == Decision.RECYCLE:
        return _("Recycled: the project is back in %(phase)s.") % {
            "phase": selectors.display(t.to_phase_name)
        }
    if t.decision == Decision.KILL:
        return _("The project is cancelled.")
    return _("The project is active again.")


class CriterionAttestView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """POST: the person in the criterion's role attests it (or withdraws it)."""

    capabilities = POST_EDIT
    model = GateCriterion

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("phase", "phase__project")

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        criterion = cast(GateCriterion, self.get_object())
        project_id = criterion.phase.project_id
        try:
            if request.POST.get("withdraw"):
                services.criterion_withdraw(
                    org=request.org, membership=request.membership, criterion=criterion
                )
                messages.success(request, _("The attestation was withdrawn."))
            else:
                form = AttestForm(request.POST)
                if not form.is_valid():
                    raise ValidationError(" ".join(str(m) for e in form.errors.values() for m in e))
                services.criterion_attest(
                    org=request.org,
                    membership=request.membership,
                    criterion=criterion,
                    note=form.cleaned_data["evidence_note"],
                    url=form.cleaned_data["evidence_url"],
                )
                messages.success(request, _("Attested. The gate shows it now."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect(_project_url(request.org.slug, project_id) + "#gate")


class SuccessMarkView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """POST: mark each success criterion met / not met (``met-<n>``: true, false or '')."""

    capabilities = POST_EDIT
    model = Project

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        marks: dict[int, tuple[bool | None, str]] = {}
        for k in range(len(project.success_criteria or [])):
            raw = request.POST.get(f"met-{k}")
            if raw is None:
                continue
            met = {"true": True, "false": False}.get(raw)
            marks[k] = (met, request.POST.get(f"note-{k}", ""))
        services.success_criteria_mark(
            org=request.org, actor=request.user, project=project, marks=marks
        )
        messages.success(request, _("Success criteria saved."))
        return redirect(_project_url(request.org.slug, project) + "#success")


# --- WBS outline -----------------------------------------------------------------------------


def _outline_context(
    request: OrgRequest, project: Project, *, focus: str = "", errors: list[str] | None = None
) -> dict[str, Any]:
    org = request.org
    rows = list(selectors.work_items(org, project))
    links = list(
        Dependency.objects.for_org(org)
        .filter(project=project)
        .values_list("predecessor_id", "successor_id", "type", "lag_days")
    )
    codes = {item.pk: item.wbs_code for item in rows}
    preds: dict[Any, list[str]] = defaultdict(list)
    for pred, succ, kind, lag in links:
        label = codes.get(pred, "?") + ("" if kind == "FS" else kind)
        if lag:
            label += f"{lag:+d}"
        preds[succ].append(label)
    return {
        "project": project,
        "rows": [
            {
                "item": item,
                "preds": ", ".join(preds.get(item.pk, [])),
                "phase_name": selectors.display(item.phase.name) if item.phase else "",
            }
            for item in rows
        ],
        "focus": focus,
        "outline_errors": errors or [],
        "can_edit": request.membership.can("records.edit") and not project.is_archived,
        "add_form": AddItemForm(),
    }


def _outline_response(
    request: OrgRequest, project: Project, *, focus: Any = "", errors: list[str] | None = None
) -> HttpResponse:
    if request.htmx:
        context = _outline_context(request, project, focus=str(focus or ""), errors=errors)
        return render(request, "projects/wbs.html#outline", context)
    for error in errors or []:
        messages.error(request, error)
    anchor = f"#wi-{focus}" if focus else ""
    return redirect(_project_url(request.org.slug, project, "wbs") + anchor)


class WbsView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """The outline editor. GET shows the WBS (``?new_after=<id>`` / ``?new_under=<id>``
    opens a new row there); POST adds an item (at the end, after ``after`` or under
    ``parent``)."""

    template_name = "projects/wbs.html"
    capabilities = VIEW_POST_EDIT
    model = Project
    context_object_name = "project"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        project = cast(Project, self.get_object())
        self.object = project
        context = self.get_context_data(object=project)
        context.update(_outline_context(request, project))
        for key, where in (("new_after", "after"), ("new_under", "parent")):
            raw = request.GET.get(key)
            if raw:
                try:
                    anchor = access_by_id(
                        WorkItem.objects.for_org(request.org).filter(project=project),
                        request.org,
                        raw,
                    )
                except Http404:
                    continue
                context.update(new_row={"where": where, "anchor": anchor}, new_form=AddItemForm())
                if request.htmx:
                    return render(request, f"{self.template_name}#new-row", context)
        return self.render_to_response(context)

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        form = AddItemForm(request.POST)
        anchors: dict[str, WorkItem | None] = {"after": None, "parent": None}
        for key in anchors:
            raw = request.POST.get(key)
            if raw:
                anchors[key] = access_by_id(
                    WorkItem.objects.for_org(request.org).filter(project=project), request.org, raw
                )
        if not form.is_valid():
            errors = [
                f"{form.fields[f].label}: {' '.join(str(m) for m in e)}"
                for f, e in form.errors.items()
            ]
            return _outline_response(request, project, errors=errors)
        try:
            item = services.work_item_create(
                org=request.org,
                actor=request.user,
                project=project,
                data=form.cleaned_data,
                parent=anchors["parent"],
                after=anchors["after"],
            )
        except ValidationError as exc:
            return _outline_response(request, project, errors=exc.messages)
        return _outline_response(request, project, focus=item.pk)


class OutlinePasteView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "projects/paste.html"
    capabilities = EDIT
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("form", PasteForm(org=self.org, project=self.object))
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = project = cast(Project, self.get_object())
        form = PasteForm(request.POST, org=request.org, project=project)
        if form.is_valid():
            try:
                created = services.outline_paste(
                    org=request.org,
                    actor=request.user,
                    project=project,
                    text=form.cleaned_data["outline"],
                    phase=form.cleaned_data["phase"],
                )
            except services.PasteError as exc:
                form.add_error("outline", exc.text)
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                added = ngettext(
                    "%(n)d work item added to the WBS.",
                    "%(n)d work items added to the WBS.",
                    len(created),
                )
                messages.success(request, added % {"n": len(created)})
                return redirect(_project_url(request.org.slug, project, "wbs"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


# --- Work items ------------------------------------------------------------------------------


class WorkItemDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "projects/work_item_detail.html"
    capabilities = VIEW
    model = WorkItem
    context_object_name = "item"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("project", "assignee", "phase", "parent")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        item: WorkItem = self.object
        org = self.org
        links = Dependency.objects.for_org(org).select_related("predecessor", "successor")
        context.update(
            project=item.project,
            predecessors=list(links.filter(successor=item).order_by("predecessor__wbs_path")),
            successors=list(links.filter(predecessor=item).order_by("successor__wbs_path")),
            children=list(WorkItem.objects.for_org(org).filter(parent=item).order_by("wbs_path")),
            followups=_followups(org, item),
            now=timezone.now(),
            phase_name=selectors.display(item.phase.name) if item.phase else "",
            can_edit=self.membership.can("records.edit") and not item.project.is_archived,
            link_form=DependencyForm(org=org, project=item.project, initial={"successor": item.pk}),
        )
        return context


class WorkItemEditView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """The full form (GET / POST), or, with htmx and ``?row=1``, the outline row editor
    whose POST answers with the refreshed outline."""

    template_name = "projects/work_item_form.html"
    capabilities = EDIT
    model = WorkItem
    context_object_name = "item"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("project", "assignee", "phase")

    def _row(self) -> bool:
        return bool(self.request.GET.get("row") or self.request.POST.get("row"))

    def _form(self, item: WorkItem, data: Any = None) -> WorkItemForm:
        return WorkItemForm(
            data,
            org=self.org,
            project=item.project,
            summary=item.is_summary,
            row=self._row(),
            initial=WorkItemForm.initial_for(item),
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request = self.org_request
        item = cast(WorkItem, self.get_object())
        self.object = item
        form = self._form(item)
        if request.htmx and self._row():
            context = {**_outline_context(request, item.project), "edit_item": item, "form": form}
            return render(request, "projects/wbs.html#row-edit", context)
        return self.render_to_response(self.get_context_data(form=form, project=item.project))

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = cast(WorkItem, self.get_object())
        self.object = item
        form = self._form(item, request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
            try:
                services.work_item_update(org=request.org, actor=request.user, item=item, data=data)
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                if self._row():
                    return _outline_response(request, item.project, focus=item.pk)
                messages.success(request, _("Saved."))
                return redirect(
                    reverse(
                        "projects:work_item_detail",
                        kwargs={"org_slug": request.org.slug, "pk": item.pk},
                    )
                )
        if self._row():
            errors = [" ".join(str(m) for m in e) for e in form.errors.values()]
            return _outline_response(request, item.project, focus=item.pk, errors=errors)
        context = self.get_context_data(form=form, project=item.project)
        return self.render_to_response(context, status=400)


class WorkItemMoveView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """POST ``how`` = indent, outdent, up or down."""

    capabilities = POST_EDIT
    model = WorkItem

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("project")

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = cast(WorkItem, self.get_object())
        how = request.POST.get("how", "")
        if how not in services.MOVES:
            return _outline_response(
                request, item.project, focus=item.pk, errors=[_("Unknown move.")]
            )
        try:
            services.work_item_move(org=request.org, actor=request.user, item=item, how=how)
        except ValidationError as exc:
            return _outline_response(request, item.project, focus=item.pk, errors=exc.messages)
        return _outline_response(request, item.project, focus=item.pk)


class WorkItemDeleteView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "projects/confirm_delete.html"
    capabilities = EDIT
    model = WorkItem
    context_object_name = "target"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("project")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        item: WorkItem = self.object
        below = (
            WorkItem.objects.for_org(self.org)
            .filter(project=item.project, wbs_path__startswith=item.wbs_path + ".")
            .count()
        )
        context.update(
            below=below,
            cancel_url=_project_url(self.org.slug, item.project, "wbs"),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        item = cast(WorkItem, self.get_object())
        project = item.project
        try:
            services.work_item_delete(org=request.org, actor=request.user, item=item)
        except ValidationError as exc:
            return _outline_response(request, project, errors=exc.messages)
        if request.htmx:
            return _outline_response(request, project)
        messages.success(request, _("%(name)s was deleted.") % {"name": item.name})
        return redirect(_project_url(request.org.slug, project, "wbs"))


# --- Dependencies ----------------------------------------------------------------------------


class DependencyCreateView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """Link two work items of the project (GET: the form; POST: link, or say why not)."""

    template_name = "projects/dependency_form.html"
    capabilities = EDIT
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        initial = {k: self.request.GET.get(k) for k in ("predecessor", "successor")}
        context.setdefault(
            "form", DependencyForm(org=self.org, project=self.object, initial=initial)
        )
        context["links"] = list(selectors.dependencies(self.org, self.object))
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = project = cast(Project, self.get_object())
        form = DependencyForm(request.POST, org=request.org, project=project)
        if form.is_valid():
            try:
                services.dependency_create(
                    org=request.org,
                    actor=request.user,
                    data={**form.cleaned_data, "project": project},
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Linked."))
                back = request.POST.get("next") or ""
                if back.startswith(f"/o/{request.org.slug}/"):
                    return redirect(back)
                return redirect(_project_url(request.org.slug, project, "dependency_create"))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DependencyDeleteView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    capabilities = POST_EDIT
    model = Dependency

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        link = cast(Dependency, self.get_object())
        project_id = link.project_id
        try:
            services.dependency_delete(org=request.org, actor=request.user, dependency=link)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The dependency was removed."))
        back = request.POST.get("next") or ""
        if back.startswith(f"/o/{request.org.slug}/"):
            return redirect(back)
        return redirect(_project_url(request.org.slug, project_id, "dependency_create"))


# --- Gantt -----------------------------------------------------------------------------------


def gantt_svg(org: Any, project: Project, *, zoom: str, today: date) -> Any:
    """The project's Gantt chart: two queries (work items, links), then pure drawing. Ids
    come back as text (``Cast``): 2,000 items and 4,000 links would otherwise make 10,000
    UUID objects only to print them."""
    slug = org.slug
    base = reverse("projects:work_item_detail", kwargs={"org_slug": slug, "pk": project.pk})
    prefix = base.rsplit(str(project.pk), 1)[0]
    items = list(
        WorkItem.objects.for_org(org)
        .filter(project=project)
        .order_by("wbs_path", "id")
        .annotate(sid=Cast("id", TextField()))
        .values_list(
            "sid",
            "wbs_code",
            "name",
            "depth",
            "is_summary",
            "duration_days",
            "early_start",
            "early_finish",
            "late_start",
            "late_finish",
            "total_float",
            "free_float",
            "critical",
            "percent_complete",
        )
    )
    calendar = selectors.project_calendar(project)
    # PostgreSQL casts a uuid to its usual text; SQLite stores it as 32 hex digits.
    as_id = _same if connection.vendor == "postgresql" else _dashed
    planned = baseline_plan(org, project)
    bars = []
    for sid, code, name, depth, summary, days, es, ef, ls, lf, tf, ff, crit, pct in items:
        pk = as_id(sid)
        kind = "summary" if summary else "milestone" if days == 0 else "task"
        bs, bf = planned.get(pk, (None, None))
        slip = None
        if bf is not None and ef is not None:
            if ef > bf:
                slip = calendar.count(bf + timedelta(days=1), ef)
            else:
                slip = -calendar.count(ef + timedelta(days=1), bf)
        bars.append(
            gantt.Bar(
                id=pk,
                code=code,
                name=name,
                depth=depth,
                kind=kind,
                start=es,
                finish=ef,
                late_start=ls,
                late_finish=lf,
                total_float=tf,
                free_float=ff,
                critical=crit,
                percent=pct,
                url=f"{prefix}{pk}/",
                duration=days,
                baseline_start=bs,
                baseline_finish=bf,
                slip=slip,
            )
        )
    arrows = [
        gantt.Arrow(as_id(p), as_id(s), t, lag)
        for p, s, t, lag in Dependency.objects.for_org(org)
        .filter(project=project)
        .annotate(p=Cast("predecessor_id", TextField()), s=Cast("successor_id", TextField()))
        .values_list("p", "s", "type", "lag_days")
    ]
    return gantt.render(
        bars,
        arrows,
        calendar=calendar,
        start=project.schedule_start or project.start_date,
        target=project.target_finish_date,
        today=today,
        zoom=zoom,
        title=_("Gantt chart of %(project)s") % {"project": f"{project.code} {project.name}"},
    )


def baseline_plan(org: Any, project: Project) -> dict[str, tuple[Any, Any]]:
    """Item id (text) -> (planned start, planned finish) in the current baseline."""
    baseline = change_guard.current_baseline(org, project)
    if baseline is None:
        return {}
    return {
        str(key): (start, finish)
        for key, start, finish in BaselineItem.objects.for_org(org)
        .filter(baseline=baseline)
        .values_list("work_item_key", "planned_start", "planned_finish")
    }


def _same(value: str) -> str:
    return value


def _dashed(value: str) -> str:
    return str(uuid.UUID(value))


class GanttView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    template_name = "projects/gantt.html"
    capabilities = VIEW
    model = Project
    context_object_name = "project"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("phase")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        project: Project = self.object
        zoom = self.request.GET.get("zoom", "week")
        zoom = zoom if zoom in gantt.ZOOMS else "week"
        today = selectors.org_today(self.org)
        slip_text, slip_badge = selectors.slip_words(project.slip_days)
        context.update(
            zoom=zoom,
            zooms=[("day", _("Day")), ("week", _("Week")), ("month", _("Month"))],
            chart=gantt_svg(self.org, project, zoom=zoom, today=today),
            slip_text=slip_text,
            slip_badge=slip_badge,
            critical_count=len(project.critical_path or []),
            baseline=change_guard.current_baseline(self.org, project),
        )
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if self.org_request.htmx and self.org_request.htmx.target == "gantt":
            return render(self.request, f"{self.template_name}#chart", context)
        return super().render_to_response(context, **kwargs)


# --- Organization settings: phase templates, calendar ----------------------------------------


class TemplateListView(OrgViewMixin, TemplateView):
    template_name = "projects/templates.html"
    capabilities = ADMIN_EDITS
    model = PhaseTemplate

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        services.default_template(self.org)
        rows = [
            {
                "t": template,
                "name": selectors.display(template.name),
                "phase_names": [selectors.display(p.name) for p in template.phases.all()],
            }
            for template in selectors.templates(self.org)
        ]
        context.update(
            rows=rows,
            form=kwargs.get("form") or TemplateForm(),
            can_manage=self.membership.can("org.manage"),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                template = services.template_create(
                    org=request.org, actor=request.user, name=form.cleaned_data["name"]
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Template created from the default one."))
                return redirect(
                    reverse(
                        "projects:template_detail",
                        kwargs={"org_slug": request.org.slug, "pk": template.pk},
                    )
                )
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TemplateDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """A template's phases and their gate criteria; admins add, rename, reorder and
    remove phases and criteria (POST ``op``)."""

    template_name = "projects/template_detail.html"
    capabilities = ADMIN_EDITS
    model = PhaseTemplate
    context_object_name = "template"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        template: PhaseTemplate = self.object
        phases = list(
            TemplatePhase.objects.for_org(self.org)
            .filter(template=template)
            .prefetch_related("criteria")
        )
        rows = []
        for phase in phases:
            criteria = []
            for c in phase.criteria.all():
                kind = gates.get(c.kind)
                kind_label = str(kind.label) if kind is not None else c.kind
                criteria.append(
                    {
                        "c": c,
                        "label": selectors.display(c.label) if c.label else kind_label,
                        "kind": kind_label,
                        "role": c.get_role_display() if c.role else "",
                    }
                )
            rows.append(
                {"phase": phase, "name": selectors.display(phase.name), "criteria": criteria}
            )
        context.update(
            name_form=TemplateForm(initial={"name": template.name}),
            phase_form=TemplatePhaseForm(),
            criterion_form=CriterionForm(),
            phases=rows,
            template_name_display=selectors.display(template.name),
            can_manage=self.membership.can("org.manage"),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        template = cast(PhaseTemplate, self.get_object())
        op = request.POST.get("op", "")
        org, actor = request.org, request.user
        phases = TemplatePhase.objects.for_org(org).filter(template=template)

        def phase() -> TemplatePhase:
            return access_by_id(phases, org, request.POST.get("phase"))

        try:
            if op == "rename":
                services.template_update(
                    org=org, actor=actor, template=template, name=request.POST.get("name", "")
                )
            elif op == "default":
                services.template_update(org=org, actor=actor, template=template, make_default=True)
            elif op == "delete":
                services.template_delete(org=org, actor=actor, template=template)
                messages.success(request, _("Template deleted."))
                return redirect(reverse("projects:templates", kwargs={"org_slug": org.slug}))
            elif op == "add_phase":
                services.template_phase_add(
                    org=org, actor=actor, template=template, name=request.POST.get("name", "")
                )
            elif op == "rename_phase":
                services.template_phase_rename(
                    org=org, actor=actor, phase=phase(), name=request.POST.get("name", "")
                )
            elif op in ("phase_up", "phase_down"):
                services.template_phase_move(
                    org=org, actor=actor, phase=phase(), step=-1 if op == "phase_up" else 1
                )
            elif op == "remove_phase":
                services.template_phase_remove(org=org, actor=actor, phase=phase())
            elif op == "add_criterion":
                services.template_criterion_add(
                    org=org,
                    actor=actor,
                    phase=phase(),
                    kind=request.POST.get("kind", ""),
                    label=request.POST.get("label", ""),
                    role=request.POST.get("role", ""),
                )
            elif op == "remove_criterion":
                criterion = access_by_id(
                    TemplateCriterion.objects.for_org(org).filter(phase__template=template),
                    org,
                    request.POST.get("criterion"),
                )
                services.template_criterion_remove(org=org, actor=actor, criterion=criterion)
            else:
                raise ValidationError(_("Unknown change."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Template saved. New projects use it from now on."))
        return redirect(
            reverse("projects:template_detail", kwargs={"org_slug": org.slug, "pk": template.pk})
        )


class CalendarSettingsView(OrgViewMixin, TemplateView):
    template_name = "projects/calendar.html"
    capabilities = ADMIN_EDITS

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        calendar = selectors.org_calendar(self.org)
        context.setdefault(
            "form",
            CalendarForm(
                initial={
                    "working_days": calendar["working_days"],
                    "holidays": "\n".join(calendar["holidays"]),
                }
            ),
        )
        context["calendar"] = calendar
        context["can_manage"] = self.membership.can("org.manage")
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CalendarForm(request.POST)
        if form.is_valid():
            try:
                services.org_calendar_update(
                    org=request.org,
                    actor=request.user,
                    calendar=form.calendar(),
                    apply_to_open_projects=form.cleaned_data["apply_to_open"],
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Working calendar saved."))
                return redirect(reverse("projects:calendar", kwargs={"org_slug": request.org.slug}))
        return self.render_to_response(self.get_context_data(form=form), status=400)
