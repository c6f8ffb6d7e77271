"""Pagination for list endpoints: numbered pages for resources, cursors for feeds."""

from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    """Numbered pages; ``?page=N&page_size=M`` with a hard ceiling on M."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class FeedCursorPagination(CursorPagination):
    """Stable cursors for feeds (messages, notifications) that grow while being read.

    Newest first; the id breaks ties between rows created in the same microsecond.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")
