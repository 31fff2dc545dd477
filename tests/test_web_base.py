"""The page frame every page shares (base.html)."""

from __future__ import annotations


def test_language_switch_keeps_the_pages_filters(admin_client) -> None:  # type: ignore[no-untyped-def]
    page = admin_client.get("/audit", params={"action": "value.", "object_type": "task",
                                              "lang": "vi"}).text
    assert 'href="?action=value.&amp;object_type=task&amp;lang=en" class="lang"' in page
    english = admin_client.get("/audit", params={"action": "value.", "lang": "en"}).text
    assert 'href="?action=value.&amp;lang=vi" class="lang"' in english
    # A page opened without a query (the language now kept as a cookie) offers the other.
    assert 'href="?lang=vi" class="lang"' in admin_client.get("/audit").text
