"""Cross-tenant cases for every route of project follow-up (pages and API)."""

from datetime import date

from projects import services
from projects.models import GateCriterion, PhaseTemplate
from tests.projects.factories import item, link, make_project
from tests.tenancy import Target, World, register


def _project(w: World):
    return w.once(
        "project",
        lambda: make_project(
            w.org_a,
            code="ALPHA-1",
            name="Alpha Secret Project",
            objective="Alpha secret objective",
            external_id="pm-alpha-1",
            manager=w.owner_a,
            sponsor=w.owner_a,
            start_date=date(2027, 1, 4),
        ),
    )


def _item(w: World):
    return w.once(
        "item",
        lambda: item(w.org_a, _project(w), "Alpha secret work item", 3, external_id="wi-alpha-1"),
    )


def _second(w: World):
    return w.once("second", lambda: item(w.org_a, _project(w), "Alpha second item", 2))


def _third(w: World):
    return w.once("third", lambda: item(w.org_a, _project(w), "Alpha third item", 1))


def _link(w: World):
    return w.once("link", lambda: link(w.org_a, _item(w), _second(w)))


def _template(w: World):
    return w.once("template", lambda: services.default_template(w.org_a))


def _attested_criterion(w: World):
    project = _project(w)
    return (
        GateCriterion.objects.for_org(w.org_a).filter(phase=project.phase, kind="attested").first()
    )


def project_list(w):
    return Target({}, _project(w).name)


def project_item(w):
    p = _project(w)
    return Target({"pk": p.pk}, p.name)


def project_external(w):
    p = _project(w)
    return Target({"external_id": p.external_id}, str(p.pk))


def item_target(w):
    i = _item(w)
    return Target({"pk": i.pk}, i.name)


def item_external(w):
    i = _item(w)
    return Target({"external_id": i.external_id}, str(i.pk))


def link_target(w):
    d = _link(w)
    return Target({"pk": d.pk}, str(d.pk))


def template_target(w):
    _project(w)
    t = _template(w)
    PhaseTemplate.objects.for_org(w.org_a).filter(pk=t.pk).update(name="Alpha secret template")
    return Target({"pk": t.pk}, "Alpha secret template")


def criterion_target(w):
    c = _attested_criterion(w)
    return Target({"pk": c.pk}, _project(w).name)


def calendar_target(w):
    services.org_calendar_update(
        org=w.org_a,
        actor=None,
        calendar={"working_days": [1, 2, 3, 4, 5], "holidays": ["2027-05-03"]},
    )
    return Target({}, "2027-05-03")


def create_target(w):
    _project(w)
    return Target({}, w.owner_a.name)  # the form offers org A's people


def transitions_target(w):
    p = _project(w)
    services.project_decide(
        org=w.org_a, actor=w.owner_a, project=p, decision="hold", note="Alpha secret hold"
    )
    return Target({"pk": p.pk}, "Alpha secret hold")


# Bodies that point at org A's objects: org B must get 400 (foreign id) or 404.
def project_body(w):
    return {
        "code": "ALPHA-NEW",
        "name": "Another project",
        "start_date": "2027-01-04",
        "manager": str(w.owner_a.pk),
        "sponsor": str(w.owner_a.pk),
        "working_days": ["1", "2", "3", "4", "5"],
        "currency": "EUR",
    }


def project_form_body(w):
    return {**project_body(w), "template": str(_template(w).pk)}


def item_body(w):
    return {"project": str(_project(w).pk), "name": "Another item", "duration_days": 2}


def link_body(w):
    # A pair not linked yet (the case's own link is item -> second).
    return {"predecessor": str(_second(w).pk), "successor": str(_third(w).pk), "type": "SS"}


def dependency_form_body(w):
    return {
        "predecessor": str(_second(w).pk),
        "successor": str(_item(w).pk),
        "type": "FS",
        "lag_days": "0",
    }


# --- Pages -----------------------------------------------------------------------------
register("projects:project_list", make=project_list)
register("projects:project_create", make=create_target, body=project_form_body)
# These writes name nothing of org A (a new template, the calendar): B writes its own.
register(
    "projects:templates",
    make=template_target,
    body=lambda w: {"name": "Another template"},
    body_names_org_a=False,
)
register(
    "projects:template_detail",
    make=template_target,
    body=lambda w: {"op": "add_phase", "name": "Extra"},
)
register(
    "projects:calendar",
    make=calendar_target,
    body=lambda w: {"working_days": ["1", "2", "3", "4", "5"], "holidays": "2027-12-24"},
    body_names_org_a=False,
)
register("projects:project_detail", make=project_item)
register("projects:project_edit", make=project_item, body=project_body)
register("projects:project_decide", make=project_item, body=lambda w: {"decision": "hold"})
register("projects:success_mark", make=project_item, body=lambda w: {"met-0": "true"})
register("projects:wbs", make=project_item, body=lambda w: {"name": "New", "duration_days": "1"})
register("projects:wbs_paste", make=project_item, body=lambda w: {"outline": "A | 1d"})
register("projects:gantt", make=lambda w: Target({"pk": _item(w).project_id}, _item(w).name))
register("projects:dependency_create", make=project_item, body=dependency_form_body)
register("projects:dependency_delete", make=link_target)
register("projects:attest", make=criterion_target, body=lambda w: {"evidence_note": "Signed"})
register("projects:work_item_detail", make=item_target)
register(
    "projects:work_item_edit",
    make=item_target,
    body=lambda w: {"name": "Renamed", "duration_days": "2", "percent_complete": "0"},
)
register("projects:work_item_move", make=item_target, body=lambda w: {"how": "down"})
register("projects:work_item_delete", make=item_target)

# --- API -------------------------------------------------------------------------------
register("project-list", make=project_list, body=project_body)
register("project-detail", make=project_item, body=project_body)
register("project-external", make=project_external, body=project_body, upsert=True)
register("project-transition", make=project_item, body=lambda w: {"decision": "hold"})
register("project-transitions", make=transitions_target)
register("project-schedule", make=lambda w: Target({"pk": _item(w).project_id}, str(_item(w).pk)))
register("work-item-list", make=lambda w: Target({}, _item(w).name), body=item_body)
register("work-item-detail", make=item_target, body=item_body)
register("work-item-external", make=item_external, body=item_body, upsert=True)
register("work-item-move", make=item_target, body=lambda w: {"action": "into", "target": None})
register("dependency-list", make=lambda w: Target({}, str(_link(w).pk)), body=link_body)
register("dependency-detail", make=link_target, body=link_body)


# --- Project control: baselines, budget, costs, change requests (issue 9, part 2) ----------
def _line(w: World):
    from projects import control

    return w.once(
        "line",
        lambda: control.budget_line_create(
            org=w.org_a,
            actor=None,
            project=_project(w),
            data={"category": "material", "amount": "500.00", "description": "Alpha secret line"},
        ),
    )


def _cost(w: World):
    from projects import control

    return w.once(
        "cost",
        lambda: control.cost_entry_create(
            org=w.org_a,
            actor=None,
            project=_project(w),
            data={
                "category": "labour",
                "amount": "120.00",
                "date": "2027-01-05",
                "note": "Alpha secret cost",
                "work_item": _item(w),
            },
        ),
    )


def _change_request(w: World, state: str = "draft"):
    from projects import control

    def make():
        cr = control.change_request_draft(
            org=w.org_a,
            actor=w.owner_a,
            project=_project(w),
            title="Alpha secret change",
            reason="Because",
            changes=[{"kind": "duration", "work_item": str(_item(w).pk), "duration_days": 4}],
        )
        if state in ("submitted", "approved"):
            cr = control.change_request_submit(org=w.org_a, actor=w.owner_a, cr=cr)
        if state == "approved":
            # Approved by someone other than its requester: an API key of org A.
            cr = control.change_request_approve(
                org=w.org_a, actor=None, cr=cr, can=lambda capability: True
            )
        return cr

    return w.once(f"cr-{state}", make)


def line_target(w):
    line = _line(w)
    return Target({"pk": line.pk}, "Alpha secret line")


def cost_target(w):
    cost = _cost(w)
    return Target({"pk": cost.pk}, "Alpha secret cost")


def cr_target(state: str):
    def make(w):
        cr = _change_request(w, state)
        return Target({"pk": cr.pk}, "Alpha secret change")

    return make


def line_body(w):
    return {"project": str(_project(w).pk), "category": "material", "amount": "50.00"}


def cost_body(w):
    return {
        "project": str(_project(w).pk),
        "work_item": str(_item(w).pk),
        "category": "material",
        "amount": "5.00",
        "date": "2027-01-06",
    }


def cr_body(w):
    return {
        "project": str(_project(w).pk),
        "title": "Another change",
        "reason": "Why",
        "changes": [{"kind": "duration", "work_item": str(_item(w).pk), "duration_days": 5}],
    }


def baselined_project(w):
    # Not baselined yet (its POST sets the first baseline); the list names its project.
    p = _project(w)
    _item(w)
    return Target({"pk": p.pk}, str(p.pk))


def _baseline(w: World):
    from projects import control

    return w.once(
        "baseline",
        lambda: control.baseline_create(
            org=w.org_a, actor=None, project=_project(w), name="Alpha secret baseline"
        ),
    )


def ev_target(w):
    _item(w)
    _cost(w)
    baseline = _baseline(w)
    return Target({"pk": baseline.project_id}, "Alpha secret baseline")


def ev_items_target(w):
    item_ = _item(w)
    _cost(w)
    _baseline(w)
    return Target({"pk": item_.project_id}, item_.name)


# Pages
register("projects:baseline_set", make=baselined_project, body=lambda w: {"name": "Plan"})
register(
    "projects:budget",
    make=lambda w: Target({"pk": _line(w).project_id}, "Alpha secret line"),
    body=lambda w: {
        "op": "line",
        "line-category": "material",
        "line-amount": "5.00",
        "line-work_item": str(_item(w).pk),
    },
)
register(
    "projects:change_requests",
    make=lambda w: Target({"pk": _change_request(w).project_id}, "Alpha secret change"),
    body=lambda w: {
        "title": "T",
        "reason": "R",
        "work_item": str(_item(w).pk),
        "duration_days": "4",
    },
)
register("projects:change_request_detail", make=cr_target("draft"), body=lambda w: {"op": "submit"})

# API
register("project-baselines", make=baselined_project, body=lambda w: {"name": "Plan"})
register("project-earned-value", make=ev_target)
register("project-earned-value-items", make=ev_items_target)
register("budget-line-list", make=lambda w: Target({}, _line(w).description), body=line_body)
register("budget-line-detail", make=line_target, body=line_body)
register("cost-entry-list", make=lambda w: Target({}, _cost(w).note), body=cost_body)
register("cost-entry-detail", make=cost_target, body=cost_body)
register("change-request-list", make=lambda w: Target({}, _change_request(w).title), body=cr_body)
register("change-request-detail", make=cr_target("draft"), body=cr_body)
register("change-request-submit", make=cr_target("draft"), body=lambda w: {})
register("change-request-approve", make=cr_target("submitted"), body=lambda w: {})
register("change-request-reject", make=cr_target("submitted"), body=lambda w: {})
register("change-request-implement", make=cr_target("approved"), body=lambda w: {})


# --- Resources, allocations, acceptance criteria, status reports (issue 9, items 5-7) ------


def _resource(w: World):
    from projects import resources

    return w.once(
        "resource",
        lambda: resources.resource_create(
            org=w.org_a,
            actor=None,
            data={"kind": "person", "user": w.owner_a, "weekly_capacity_hours": 40},
        ),
    )


def _machine(w: World):
    from projects import resources

    return w.once(
        "machine",
        lambda: resources.resource_create(
            org=w.org_a,
            actor=None,
            data={
                "kind": "equipment",
                "name": "Alpha secret press",
                "unit": "machine hours",
                "available_per_day": 8,
            },
        ),
    )


def _allocation(w: World):
    from projects import resources

    return w.once(
        "allocation",
        lambda: resources.allocation_create(
            org=w.org_a, actor=None, work_item=_item(w), resource=_machine(w), per_day=3
        ),
    )


def _acceptance(w: World):
    from projects import quality

    return w.once(
        "acceptance",
        lambda: quality.criterion_add(
            org=w.org_a, actor=None, item=_item(w), text="Alpha secret acceptance"
        ),
    )


def _report(w: World):
    from projects import reports

    def make():
        project = _project(w)
        return reports._create_draft(w.org_a, project, date(2027, 1, 8))

    return w.once("report", make)


def resource_target(w):
    r = _machine(w)
    return Target({"pk": r.pk}, r.name)


def load_target(w):
    _allocation(w)
    return Target({}, _machine(w).name)


def allocation_target(w):
    a = _allocation(w)
    return Target({"pk": a.pk}, str(a.pk))


def acceptance_target(w):
    c = _acceptance(w)
    return Target({"pk": c.pk}, c.text)


def report_target(w):
    r = _report(w)
    return Target({"pk": r.pk}, _project(w).name)


def resource_form_body(w):
    return {"kind": "person", "user": str(w.owner_a.pk), "weekly_capacity_hours": "32"}


def machine_form_body(w):
    return {
        "kind": "equipment",
        "name": "Renamed press",
        "unit": "machine hours",
        "available_per_day": "6",
    }


def allocation_body(w):
    return {"work_item": str(_second(w).pk), "resource": str(_machine(w).pk), "per_day": "2"}


def report_body(w):
    return {
        "narrative": "On track",
        "rag_schedule": "green",
        "rag_cost": "green",
        "rag_scope": "green",
        "rag_quality": "amber",
        "rag_risk": "green",
        "publish": "1",
    }


register("projects:resource_list", make=resource_target, body=resource_form_body)
register("projects:resource_load", make=load_target)
register("projects:resource_detail", make=resource_target, body=machine_form_body)
register("projects:resource_delete", make=resource_target)
register(
    "projects:allocation_create",
    make=item_target,
    body=lambda w: {"resource": str(_machine(w).pk), "per_day": "2"},
)
register("projects:allocation_delete", make=allocation_target)
register("projects:acceptance_add", make=item_target, body=lambda w: {"text": "Signed off"})
register("projects:acceptance_decide", make=acceptance_target, body=lambda w: {"state": "checked"})
register("projects:report_list", make=project_item)
register("projects:project_follow", make=project_item, body=lambda w: {"follow": "1"})
register("projects:report_detail", make=report_target, body=report_body)

register("resource-list", make=resource_target, body=resource_form_body)
register("resource-detail", make=resource_target, body=machine_form_body)
register("resource-load", make=load_target)
register("allocation-list", make=allocation_target, body=allocation_body)
register(
    "allocation-detail",
    make=allocation_target,
    body=lambda w: {"work_item": str(_item(w).pk), "resource": str(_machine(w).pk), "per_day": "4"},
)
register(
    "acceptance-criterion-list",
    make=acceptance_target,
    body=lambda w: {"work_item": str(_item(w).pk), "text": "Another criterion"},
)
register("acceptance-criterion-detail", make=acceptance_target)
register("acceptance-criterion-decide", make=acceptance_target, body=lambda w: {"state": "checked"})
register("projects:earned_value", make=ev_items_target)


# --- Cost imports (issue 9: the cost file as a job) ----------------------------------------


def _cost_job(w: World):
    from engagements.models import ImportJob

    return w.once(
        "cost_job",
        lambda: ImportJob.objects.create(
            organization=w.org_a,
            kind=ImportJob.Kind.COST_ENTRIES,
            target_id=_project(w).pk,
            filename="alpha-secret-costs.csv",
            content="",
            status="failed",
        ),
    )


def cost_job_target(w):
    job = _cost_job(w)
    return Target({"pk": job.target_id, "job": job.pk}, job.filename)


def cost_job_api_target(w):
    job = _cost_job(w)
    return Target({"pk": job.target_id, "job_id": job.pk}, job.filename)


def cost_file(w):
    return {"content": "date,category,amount\n2027-01-05,material,1.00\n", "filename": "a.csv"}


register("projects:cost_import_detail", make=cost_job_target)
register(
    "projects:cost_import_template",
    make=lambda w: Target({"pk": _project(w).pk}, "date,category,amount,work_item,note"),
)
register(
    "project-cost-imports",
    make=lambda w: Target({"pk": _cost_job(w).target_id}, _cost_job(w).filename),
    body=cost_file,
)
register("project-cost-import-detail", make=cost_job_api_target)
