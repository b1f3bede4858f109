"""English formats: the ISO day the app has always shown, with the weekday in front."""

WEEKDAY_DATE_FORMAT = "D j M"  # Tue 1 Dec
WEEKDAY_DATETIME_FORMAT = "D j M, H:i"  # Tue 1 Dec, 15:00
FULL_DATE_FORMAT = "D Y-m-d"  # Tue 2026-12-01
FULL_DATETIME_FORMAT = "D Y-m-d H:i"  # Tue 2026-12-01 15:00
FULL_DATETIME_ZONE_FORMAT = "D Y-m-d H:i T"  # Tue 2026-12-01 15:00 CET
YEAR_MONTH_FORMAT = "F Y"  # December 2026
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
