"""Dates and amounts in the reader's locale (issue 11, defect 10: 中文 dates read
"周二 1 十二月, 15:00" and amounts lost their thousands separators)."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.utils import translation
from django.utils.formats import date_format

from tests.engagements.factories import make_customer

NAMES = [
    "WEEKDAY_DATE_FORMAT",
    "WEEKDAY_DATETIME_FORMAT",
    "FULL_DATE_FORMAT",
    "FULL_DATETIME_FORMAT",
    "FULL_DATETIME_ZONE_FORMAT",
    "YEAR_MONTH_FORMAT",
]
TUESDAY = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("code", [code for code, _name in settings.LANGUAGES])
def test_every_named_format_exists_in_every_language(code):
    folder = translation.to_locale(code)
    module = importlib.import_module(f"followup.site.formats.{folder}.formats")
    assert [name for name in NAMES if not hasattr(module, name)] == []


def test_chinese_dates_read_month_day_weekday_time():
    with translation.override("zh-hans"), translation_timezone_utc():
        assert date_format(TUESDAY, "WEEKDAY_DATETIME_FORMAT") == "12月1日 周二 15:00"
        assert date_format(TUESDAY, "FULL_DATE_FORMAT") == "2026年12月1日 周二"
        assert date_format(TUESDAY, "YEAR_MONTH_FORMAT") == "2026年12月"
    with translation.override("en"):
        assert date_format(TUESDAY, "WEEKDAY_DATETIME_FORMAT") == "Tue 1 Dec, 15:00"
        assert date_format(TUESDAY, "FULL_DATETIME_FORMAT") == "Tue 2026-12-01 15:00"


def test_chinese_amounts_keep_their_thousands_separators():
    with translation.override("zh-hans"):
        assert intcomma(640000) == "640,000"
        rendered = Template('{{ v|floatformat:"2g" }}').render(Context({"v": Decimal("1234567.5")}))
        assert rendered == "1,234,567.50"


@pytest.mark.django_db
def test_the_customer_page_in_chinese_shows_grouped_amounts(member_client, member, org):
    member.language = "zh-hans"
    member.save()
    customer = make_customer(org, name="Huaxin Precision", annual_value=Decimal("640000"))
    page = member_client.get(f"/o/acme/customers/{customer.pk}/").content.decode()
    assert "640,000" in page


class translation_timezone_utc:
    def __enter__(self):
        from django.utils import timezone

        timezone.activate("UTC")

    def __exit__(self, *exc):
        from django.utils import timezone

        timezone.deactivate()
