"""简体中文 formats: month and day before the weekday (12月1日 周二 15:00), and amounts grouped
by thousands with a comma (640,000), as Chinese business documents write them (Django's own
zh_Hans groups by four with no separator)."""

WEEKDAY_DATE_FORMAT = "n月j日 D"  # 12月1日 周二
WEEKDAY_DATETIME_FORMAT = "n月j日 D H:i"  # 12月1日 周二 15:00
FULL_DATE_FORMAT = "Y年n月j日 D"  # 2026年12月1日 周二
FULL_DATETIME_FORMAT = "Y年n月j日 D H:i"  # 2026年12月1日 周二 15:00
FULL_DATETIME_ZONE_FORMAT = "Y年n月j日 D H:i T"
YEAR_MONTH_FORMAT = "Y年n月"  # 2026年12月
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
