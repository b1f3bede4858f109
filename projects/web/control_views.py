"""Pages of project control: the earned-value panel of the project page (indices in plain
words, the S-curve, the change log), the budget and costs page, the change requests."""

from __future__ import annotations

from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from accounts import inputs
from accounts.mixins import OrgViewMixin
from accounts.models import Organization, User
from accounts.requests import OrgRequest
from engagements.imports import MAX_BYTES as MAX_IMPORT_BYTES
from engagements.tasks import queue_import
from projects import change_guard, control, cost_import, evm, selectors
from projects.models import (
    BudgetLine,
    ChangeRequest,
    ChangeRequestStatus,
    CostEntry,
    LabourRate,
    Project,
    ReserveKind,
    WorkItem,
)
from projects.web.control_forms import (
    BaselineForm,
    BudgetLineForm,
    ChangeRequestForm,
    CostEntryForm,
    CostImportForm,
    DecisionNoteForm,
    DrawForm,
    LabourForm,
    RateForm,
)

VIEW = {"GET": "records.view", "HEAD": "records.view"}
VIEW_POST_EDIT = {**VIEW, "POST": "records.edit"}
POST_EDIT = {"POST": "records.edit"}
CR_BADGE = {
    ChangeRequestStatus.DRAFT: "neutral",
    ChangeRequestStatus.SUBMITTED: "amber",
    ChangeRequestStatus.APPROVED: "green",
    ChangeRequestStatus.REJECTED: "red",
    ChangeRequestStatus.IMPLEMENTED: "plain",
}
STATE_BADGE = {
    "ahead": "green",
    "under": "green",
    "on": "green",
    "behind": "red",
    "over": "red",
    "unknown": "neutral",
}


def _url(org: Organization, name: str, pk: Any) -> str:
    return reverse(f"projects:{name}", kwargs={"org_slug": org.slug, "pk": pk})


def _errors_into(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _as_of(request: OrgRequest) -> date:
    raw = request.GET.get("as_of") or ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return selectors.org_today(request.org)
    return day if 1900 <= day.year <= 2999 else selectors.org_today(request.org)


def control_context(request: OrgRequest, project: Project) -> dict[str, Any]:
    """The project page's earned value, baseline and change log (a fixed number of queries)."""
    org = request.org
    as_of = _as_of(request)
    data = evm.indices(org, project, as_of)
    baseline = change_guard.current_baseline(org, project)
    reading = data["reading"]
    undefined = cast(dict[str, Any], data["undefined"])
    log = list(ChangeRequest.objects.for_org(org).filter(project=project).order_by("-number")[:20])
    for cr in log:
        cr.badge = CR_BADGE.get(ChangeRequestStatus(cr.status), "neutral")  # type: ignore[attr-defined]
    return {
        "ev": data,
        "ev_as_of": as_of,
        "ev_reading": reading,
        "ev_schedule_badge": STATE_BADGE[reading["schedule"]],
        "ev_cost_badge": STATE_BADGE[reading["cost"]],
        "ev_reasons": [(name, _(why["message"])) for name, why in undefined.items()],
        "curve": evm.s_curve(org, project, as_of),
        "baseline": baseline,
        "baseline_form": BaselineForm(),
        "can_set_baseline": baseline is None
        and control.may_set_first_baseline(project, request.user, request.membership.can),
        "change_log": log,
    }


class EarnedValueView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """The drill-down: earned value per baselined work package at the status date."""

    template_name = "projects/earned_value.html"
    capabilities = VIEW
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        project = cast(Project, self.object)
        request = self.org_request
        as_of = _as_of(request)
        order = request.GET.get("order") or "wbs"
        if order not in evm.ITEM_ORDERS:
            order = "wbs"
        try:
            page = evm.work_item_page(
                self.org, project, as_of, order=order, cursor=request.GET.get("cursor") or None
            )
        except evm.BadCursor:  # a stale or edited link: the first page, not an error
            page = evm.work_item_page(self.org, project, as_of, order=order)
        for row in page.rows:
            reading = row["reading"]
            row["schedule_badge"] = STATE_BADGE[reading["schedule"]]
            row["cost_badge"] = STATE_BADGE[reading["cost"]]
        base = urlencode({"as_of": as_of.isoformat(), "order": order})
        context.update(
            rows=page.rows,
            page=page,
            as_of=as_of,
            order=order,
            orders=[
                (key, label, key == order)
                for key, label in (
                    ("wbs", _("WBS order")),
                    ("sv", _("Schedule variance, worst first")),
                    ("cv", _("Cost variance, worst first")),
                    ("-sv", _("Schedule variance, best first")),
                    ("-cv", _("Cost variance, best first")),
                )
            ],
            next_url=f"?{base}&{urlencode({'cursor': page.next_cursor})}"
            if page.next_cursor
            else None,
            previous_url=f"?{base}&{urlencode({'cursor': page.previous_cursor})}"
            if page.previous_cursor
            else None,
        )
        return context


class BaselineSetView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """POST: set the project's first baseline (the manager, or who may approve changes)."""

    capabilities = POST_EDIT
    model = Project

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        form = BaselineForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give the baseline a name."))
        else:
            try:
                baseline = control.baseline_create(
                    org=request.org,
                    actor=request.user,
                    project=project,
                    name=form.cleaned_data["name"],
                    can=request.membership.can,
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            except (control.ChangeRefused, control.NotAllowed) as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Baseline %(n)d is set.") % {"n": baseline.number})
        return redirect(_url(request.org, "project_detail", project.pk))


class BudgetView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """Budget lines by category and work package, the reserves, and the actual costs."""

    template_name = "projects/budget.html"
    capabilities = VIEW_POST_EDIT
    model = Project
    context_object_name = "project"
    COSTS_SHOWN = 200

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, project = self.org, cast(Project, self.object)
        lines = list(
            BudgetLine.objects.for_org(org)
            .filter(project=project)
            .select_related("work_item")
            .order_by("category", "created_at", "id")
        )
        labels = dict(control.categories(org))
        by_category: dict[str, Any] = {}
        for line in lines:
            line.category_label = labels.get(line.category, line.category)  # type: ignore[attr-defined]
            by_category[line.category_label] = by_category.get(line.category_label, 0) + line.amount  # type: ignore[attr-defined]
        costs = list(
            CostEntry.objects.for_org(org)
            .filter(project=project)
            .select_related("work_item")
            .order_by("-date", "-created_at")[: self.COSTS_SHOWN]
        )
        for cost in costs:
            cost.category_label = labels.get(cost.category, cost.category)  # type: ignore[attr-defined]
        spent = (
            CostEntry.objects.for_org(org).filter(project=project).aggregate(t=Sum("amount"))["t"]
        )
        context.update(
            lines=lines,
            by_category=sorted(by_category.items()),
            plan_budget=control.plan_budget(org, project),
            costs=costs,
            spent=spent or 0,
            contingency=control.reserve_balance(org, project, ReserveKind.CONTINGENCY),
            management=control.reserve_balance(org, project, ReserveKind.MANAGEMENT),
            line_form=kwargs.get("line_form")
            or BudgetLineForm(org=org, project=project, prefix="line"),
            cost_form=kwargs.get("cost_form")
            or CostEntryForm(
                org=org, project=project, prefix="cost", initial={"date": selectors.org_today(org)}
            ),
            draw_form=kwargs.get("draw_form") or DrawForm(prefix="draw"),
            import_form=kwargs.get("import_form") or CostImportForm(prefix="import"),
            labour_form=kwargs.get("labour_form")
            or LabourForm(
                org=org,
                project=project,
                prefix="labour",
                initial={"date": selectors.org_today(org)},
            ),
            rate_form=kwargs.get("rate_form") or RateForm(org=org, prefix="rate"),
            can_set_rates=self.membership.can("org.manage"),
            rates=list(
                LabourRate.objects.for_org(org)
                .select_related("person")
                .order_by("role", "person__email")
            ),
            import_jobs=list(cost_import.jobs(org, project)[:5]),
            import_allowed=cost_import.allowed(org),
            can_edit=self.membership.can("records.edit"),
            baseline=change_guard.current_baseline(org, project),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = project = cast(Project, self.get_object())
        org, op = request.org, request.POST.get("op", "")
        forms: dict[str, Any] = {}
        try:
            if op == "line":
                form: Any = BudgetLineForm(request.POST, org=org, project=project, prefix="line")
                forms["line_form"] = form
                if form.is_valid():
                    control.budget_line_create(
                        org=org, actor=request.user, project=project, data=form.cleaned_data
                    )
                    messages.success(request, _("Budget line added."))
                    return redirect(_url(org, "budget", project.pk))
            elif op == "cost":
                form = CostEntryForm(request.POST, org=org, project=project, prefix="cost")
                forms["cost_form"] = form
                if form.is_valid():
                    control.cost_entry_create(
                        org=org, actor=request.user, project=project, data=form.cleaned_data
                    )
                    messages.success(request, _("Actual cost recorded."))
                    return redirect(_url(org, "budget", project.pk))
            elif op == "draw":
                form = DrawForm(request.POST, prefix="draw")
                forms["draw_form"] = form
                if form.is_valid():
                    control.contingency_draw(
                        org=org,
                        actor=request.user,
                        project=project,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                    )
                    messages.success(request, _("The contingency reserve was drawn down."))
                    return redirect(_url(org, "budget", project.pk))
            elif op == "labour":
                form = LabourForm(request.POST, org=org, project=project, prefix="labour")
                forms["labour_form"] = form
                if form.is_valid():
                    values = form.cleaned_data
                    control.labour_cost_log(
                        org=org,
                        actor=request.user,
                        project=project,
                        person=values["person"],
                        hours=values["hours"],
                        on=values["date"],
                        work_item=values.get("work_item"),
                        note=values.get("note", ""),
                    )
                    messages.success(request, _("Labour cost recorded."))
                    return redirect(_url(org, "budget", project.pk))
            elif op == "rate":
                form = RateForm(request.POST, org=org, prefix="rate")
                forms["rate_form"] = form
                if not self.membership.can("org.manage"):
                    form.add_error(None, _("Only an organization admin sets hourly rates."))
                elif form.is_valid():
                    values = form.cleaned_data
                    control.labour_rate_set(
                        org=org,
                        actor=request.user,
                        rate=values["rate"],
                        person=values.get("person"),
                        role=values.get("role") or "",
                    )
                    messages.success(request, _("Hourly rate saved."))
                    return redirect(_url(org, "budget", project.pk))
            elif op == "import":
                form = CostImportForm(request.POST, request.FILES, prefix="import")
                forms["import_form"] = form
                if form.is_valid():
                    upload = form.cleaned_data["file"]
                    try:
                        content = cost_import.decode(upload.read(MAX_IMPORT_BYTES + 1))
                        job = cost_import.import_start_costs(
                            org=org,
                            actor=request.user,
                            project=project,
                            filename=inputs.strip_controls(upload.name or "")[:255],
                            content=content,
                            queue=queue_import,
                        )
                    except cost_import.FileError as exc:
                        form.add_error("file", str(exc))
                    except cost_import.ProjectClosed as exc:
                        form.add_error(None, exc.message)
                    else:
                        return redirect(
                            reverse(
                                "projects:cost_import_detail",
                                kwargs={"org_slug": org.slug, "pk": project.pk, "job": job.pk},
                            )
                        )
            else:
                messages.error(request, _("Unknown action."))
                return redirect(_url(org, "budget", project.pk))
        except ValidationError as exc:
            _errors_into(form, exc)
        except control.ChangeRefused as exc:
            form.add_error(None, exc.message)
        return self.render_to_response(self.get_context_data(**forms), status=400)


class CostImportDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """A cost file's import: its progress (polled with htmx while it runs), then what was
    imported or, line by line, why nothing was."""

    template_name = "projects/cost_import.html"
    capabilities = VIEW  # costs are read and entered with the records' rights, not imports'
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        project = cast(Project, self.object)
        job = cost_import.jobs(self.org, project).filter(pk=self.kwargs["job"]).first()
        if job is None:
            raise Http404
        context.update(
            job=job,
            poll_url=reverse(
                "projects:cost_import_detail",
                kwargs={"org_slug": self.org.slug, "pk": project.pk, "job": job.pk},
            ),
        )
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        if self.org_request.htmx:
            return render(self.request, "engagements/import_detail.html#progress", context)
        return super().render_to_response(context, **kwargs)


class CostImportTemplateView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """The cost file's columns as a CSV to fill in."""

    capabilities = VIEW
    model = Project

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        project = cast(Project, self.get_object())
        response = HttpResponse(cost_import.template_csv(), content_type="text/csv; charset=utf-8")
        name = "".join(c for c in project.code if c.isalnum() or c in "-_") or "project"
        response["Content-Disposition"] = f'attachment; filename="costs-{name}.csv"'
        return response


class ChangeRequestListView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """A project's change requests, and a new one (a draft, with its impact computed)."""

    template_name = "projects/change_requests.html"
    capabilities = VIEW_POST_EDIT
    model = Project
    context_object_name = "project"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, project = self.org, cast(Project, self.object)
        rows = list(ChangeRequest.objects.for_org(org).filter(project=project).order_by("-number"))
        for cr in rows:
            cr.badge = CR_BADGE.get(ChangeRequestStatus(cr.status), "neutral")  # type: ignore[attr-defined]
        context.update(
            requests=rows,
            form=kwargs.get("form") or ChangeRequestForm(org=org, project=project),
            can_edit=self.membership.can("records.edit"),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = project = cast(Project, self.get_object())
        form = ChangeRequestForm(request.POST, org=request.org, project=project)
        if form.is_valid():
            try:
                cr = control.change_request_draft(
                    org=request.org,
                    actor=request.user,
                    project=project,
                    title=form.cleaned_data["title"],
                    reason=form.cleaned_data["reason"],
                    changes=form.changes(),
                )
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Change request drafted: check its impact."))
                return redirect(_url(request.org, "change_request_detail", cr.pk))
        return self.render_to_response(self.get_context_data(form=form), status=400)


def describe_change(change: dict[str, Any], names: dict[str, str]) -> str:
    kind = change.get("kind", "")
    label = _(control.CHANGE_KIND_LABELS.get(kind, kind))
    item = names.get(str(change.get("work_item") or ""), "")
    if kind == "duration":
        return _("%(label)s of %(item)s: %(n)s working days") % {
            "label": label,
            "item": item,
            "n": change["duration_days"],
        }
    if kind in ("budget", "effort", "dates"):
        value = change.get(
            "budget", change.get("effort_hours", change.get("start_no_earlier_than"))
        )
        return f"{label} — {item}: {value if value is not None else '—'}"
    if kind == "add_item":
        after = names.get(str(change.get("predecessor") or ""), "")
        text = _("%(label)s: %(name)s, %(n)s working days, budget %(budget)s") % {
            "label": label,
            "name": change["name"],
            "n": change["duration_days"],
            "budget": change["budget"],
        }
        return text + (" — " + _("after %(item)s") % {"item": after} if after else "")
    if kind == "remove_item":
        return f"{label}: {item}"
    if kind == "reserve_transfer":
        return _("%(label)s: %(amount)s from %(source)s to %(target)s") % {
            "label": label,
            "amount": change["amount"],
            "source": change["from"],
            "target": change["to"],
        }
    if kind == "project_status":
        return _("Put the project on hold")
    return f"{label}: {change.get('amount', '')}"


class ChangeRequestDetailView(OrgViewMixin, DetailView):  # type: ignore[type-arg]
    """One change request: its changes and computed impact, and the next step."""

    template_name = "projects/change_request_detail.html"
    capabilities = VIEW_POST_EDIT
    model = ChangeRequest
    context_object_name = "cr"

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("project", "requested_by", "decided_by")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        org, cr = self.org, cast(ChangeRequest, self.object)
        impact = cr.impact or {}
        ids = {str(c.get(k)) for c in cr.changes for k in ("work_item", "predecessor") if c.get(k)}
        ids |= set(impact.get("critical_before", [])) | set(impact.get("critical_after", []))
        names = {
            str(pk): f"{code} {name}"
            for pk, code, name in WorkItem.objects.for_org(org)
            .filter(pk__in=list(ids))
            .values_list("pk", "wbs_code", "name")
        }
        user = cast(User, self.request.user)
        requester = cr.requested_by_id is not None and cr.requested_by_id == user.pk
        may_decide = control.may_approve(cr.project, user, self.membership.can) and not requester
        S = ChangeRequestStatus
        baseline = cr.project.baselines.model.objects.for_org(org).filter(change_request=cr).first()
        context.update(
            project=cr.project,
            cr_badge=CR_BADGE.get(S(cr.status), "neutral"),
            changes=[describe_change(c, names) for c in cr.changes],
            impact=impact,
            critical_before=[names.get(pk, "—") for pk in impact.get("critical_before", [])],
            critical_after=[names.get(pk, "—") for pk in impact.get("critical_after", [])],
            note_form=kwargs.get("note_form") or DecisionNoteForm(),
            can_submit=cr.status == S.DRAFT and self.membership.can("records.edit"),
            can_decide=cr.status == S.SUBMITTED and may_decide,
            is_requester=requester,
            can_implement=cr.status == S.APPROVED and self.membership.can("records.edit"),
            created_baseline=baseline,
            error=kwargs.get("error", ""),
        )
        return context

    def post(self, request: OrgRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = cr = cast(ChangeRequest, self.get_object())
        op = request.POST.get("op", "")
        form = DecisionNoteForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(note_form=form), status=400)
        note, org, actor = form.cleaned_data.get("note", ""), request.org, request.user
        try:
            if op == "submit":
                control.change_request_submit(org=org, actor=actor, cr=cr)
                done = _("Submitted for a decision.")
            elif op == "approve":
                control.change_request_approve(
                    org=org, actor=actor, cr=cr, note=note, can=request.membership.can
                )
                done = _("Approved.")
            elif op == "reject":
                control.change_request_reject(
                    org=org, actor=actor, cr=cr, note=note, can=request.membership.can
                )
                done = _("Rejected.")
            elif op == "implement":
                control.change_request_implement(org=org, actor=actor, cr=cr)
                done = _("Implemented: the next baseline is set.")
            else:
                raise control.ChangeRefused(_("Unknown action."))
        except ValidationError as exc:
            self.object = ChangeRequest.objects.for_org(org).select_related("project").get(pk=cr.pk)
            return self.render_to_response(
                self.get_context_data(error=" ".join(exc.messages)), status=400
            )
        except (control.ChangeRefused, control.NotAllowed) as exc:
            self.object = ChangeRequest.objects.for_org(org).select_related("project").get(pk=cr.pk)
            status = 403 if isinstance(exc, control.NotAllowed) else 409
            return self.render_to_response(self.get_context_data(error=exc.message), status=status)
        messages.success(request, done)
        return redirect(_url(org, "change_request_detail", cr.pk))
