"""Events name their subject by its registry key, not by its bare model name.

Rows recorded before said ``subject_type="touchpoint"``; two apps' ``Review`` models would
have read the same. Each bare name that one content type carries becomes what
``subjects.type_key`` gives for that model: the subject registry's key where the model was
registered when this migration was written (customers and engagements, whose keys are
their model names), ``app_label.model_name`` otherwise. A name that several models share
cannot be told apart any more and is left as it is.
"""

from django.db import migrations

# (app_label, model) -> registry key, as ``AppConfig.ready()`` registered them at the time.
REGISTERED = {("engagements", "customer"): "customer", ("engagements", "engagement"): "engagement"}


def _to_keys(apps, schema_editor):  # noqa: ANN001
    Event = apps.get_model("kernel", "Event")
    ContentType = apps.get_model("contenttypes", "ContentType")
    names = (
        Event.objects.exclude(subject_type="")
        .exclude(subject_type__contains=".")
        .values_list("subject_type", flat=True)
        .distinct()
    )
    for name in list(names):
        types = list(ContentType.objects.filter(model=name))
        if len(types) != 1:
            continue
        ct = types[0]
        key = REGISTERED.get((ct.app_label, ct.model), f"{ct.app_label}.{ct.model}")
        if key != name:
            Event.objects.filter(subject_type=name).update(subject_type=key)


def _to_names(apps, schema_editor):  # noqa: ANN001
    Event = apps.get_model("kernel", "Event")
    for key in (
        Event.objects.filter(subject_type__contains=".")
        .values_list("subject_type", flat=True)
        .distinct()
    ):
        Event.objects.filter(subject_type=key).update(subject_type=key.split(".", 1)[1])


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("kernel", "0002_event_deliveries"),
    ]

    operations = [migrations.RunPython(_to_keys, _to_names)]
