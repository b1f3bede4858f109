"""Date and number formats per language (``FORMAT_MODULE_PATH``), on top of Django's own.

Templates name a format instead of spelling one out (``|date:"WEEKDAY_DATETIME_FORMAT"``), so
a reader of 中文 sees 12月1日 周二 15:00 where an English reader sees Tue 1 Dec, 15:00. Every
name below is defined for every language in ``settings.LANGUAGES`` (``tests/test_formats.py``
checks): Django returns an unknown name as the text itself.
"""
