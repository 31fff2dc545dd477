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


def test_error_page_offers_the_page_the_reader_came_from(admin_client) -> None:  # type: ignore[no-untyped-def]
    base = "http://testserver"
    missing = admin_client.get("/tasks/987654", params={"lang": "vi"},
                               headers={"referer": f"{base}/tasks?status=overdue"})
    assert missing.status_code == 404
    assert f'<a href="{base}/tasks?status=overdue">Quay lại trang trước</a>' in missing.text
    elsewhere = admin_client.get("/tasks/987654", headers={"referer": "https://evil.example/x"})
    assert "evil.example" not in elsewhere.text and "Quay lại trang trước" not in elsewhere.text
