"""Tags of the list pages: sortable column headers and the person's saved views.

``{% sort_header "due" _("Due") current=sort %}`` renders a ``<th>`` whose link sorts by
the column (again: the other way) and whose ``aria-sort`` says how the list is sorted;
``{% saved_filters "customers" %}`` lists the person's saved views of a list with a form
to save the current one.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from followup.engine import lists
from followup.kernel.sorting import toggled

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_header(
    context: template.Context,
    key: str,
    label: str,
    *,
    current: str,
    first: str = "asc",
    css: str = "",
) -> SafeString:
    request = context["request"]
    params = request.GET.copy()
    params.pop("page", None)
    params["sort"] = toggled(current, key, first=first)
    sorted_here = current.lstrip("-") == key
    state = ("descending" if current.startswith("-") else "ascending") if sorted_here else ""
    mark = {"ascending": "▲", "descending": "▼"}.get(state, "")
    return format_html(
        '<th scope="col"{}{}><a class="sort-link" href="?{}">{}<span class="sort-mark" '
        'aria-hidden="true">{}</span></a></th>',
        format_html(' class="{}"', css) if css else "",
        format_html(' aria-sort="{}"', state) if state else "",
        params.urlencode(),
        label,
        mark,
    )


@register.inclusion_tag("followup/partials/saved_filters.html", takes_context=True)
def saved_filters(context: template.Context, list_key: str) -> dict[str, Any]:
    request = context["request"]
    page = lists.get(list_key)
    if page is None:
        raise template.TemplateSyntaxError(f"Unknown list {list_key!r}")
    current = lists.clean_query(request.GET.urlencode())
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "list_key": list_key,
        "list_path": page.path(request.org),
        "current": current,
        "rows": list(lists.saved_filters(request.org, request.user, list_key)),
    }
