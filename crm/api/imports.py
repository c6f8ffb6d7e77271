"""CRM API: CSV import (upload, preview, mapping, progress) and CSV export.

Every route is under ``/api/v1/crm/<organization_id>/``. Outsiders get 404 ``crm.not_found``;
viewers read imports and export, but may not import (403 ``crm.permission_denied``). The
import runs as a task; its progress also reaches the uploader live as ``crm.import.progress``.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import StreamingHttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from core.pagination import PagePagination
from crm import exports, filtering, imports, saved_views
from crm.api import work_serializers as serializers
from crm.api.permissions import IsCrmMember, IsCrmMemberReadingOrWriter, IsCrmWriter
from crm.models import ImportJob, ImportStatus

NOT_FOUND_DOC = (
    "Outsiders and another organization's imports: 404 `crm.not_found`; viewers: 403 "
    "`crm.permission_denied` on imports."
)


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _job_payload(job: ImportJob, *, with_preview: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = dict(imports.import_job_data(job))
    if with_preview and job.status == ImportStatus.UPLOADED:
        data["preview"] = imports.import_preview(job)
        return dict(serializers.CrmImportDetailOutput(data).data)
    return dict(serializers.CrmImportJobOutput(data).data)


class ImportListApi(APIView):
    """The organization's imports; upload a CSV file to import."""

    permission_classes = (IsCrmMemberReadingOrWriter,)
    parser_classes = (MultiPartParser,)

    @extend_schema(
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (default 50)."),
        ],
        responses=serializers.CrmImportPageOutput,
        operation_id="crm_imports_list",
        summary="Imports",
        description="Newest first. " + NOT_FOUND_DOC,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        jobs = imports.imports_list(user=signed_in_user(request), organization_id=organization_id)
        paginator = PagePagination()
        page = paginator.paginate_queryset(jobs, request, view=self) or []
        return paginator.get_paginated_response([_job_payload(job) for job in page])

    @extend_schema(
        request={"multipart/form-data": serializers.CrmImportUploadInput},
        responses={201: serializers.CrmImportDetailOutput},
        summary="Upload a CSV file to import",
        description=(
            "Contacts, or deals into `pipeline_id`. Comma or semicolon separated, UTF-8 or "
            "Latin-1, with a header row. Too large: 422 `crm.import_too_large`; no header, "
            "repeated column names, no pipeline: 422 `crm.invalid_import` (extra.field). "
            "Answers the job with a preview of the first rows and a suggested mapping. "
            + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = _valid(serializers.CrmImportUploadInput, request.data)
        job = imports.import_upload(
            actor=signed_in_user(request), organization_id=organization_id, **data
        )
        return Response(_job_payload(job, with_preview=True), status=status.HTTP_201_CREATED)


class ImportDetailApi(APIView):
    """One import: its progress and errors (and a preview until it starts)."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        responses=serializers.CrmImportDetailOutput,
        summary="An import",
        description="`preview` is there while the job is `uploaded`. " + NOT_FOUND_DOC,
    )
    def get(self, request: Request, organization_id: int, import_id: int) -> Response:
        job = imports.import_for(signed_in_user(request), organization_id, import_id)
        return Response(_job_payload(job, with_preview=True))


class ImportStartApi(APIView):
    """Map the columns and start the import."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmImportStartInput,
        responses=serializers.CrmImportJobOutput,
        summary="Start an import",
        description=(
            "`mapping` pairs column headers with fields (contacts need `name`, deals "
            '`title`; "" ignores a column). A wrong mapping: 422 `crm.invalid_mapping` '
            "(extra.field); already started: 409 `crm.import_started`. " + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int, import_id: int) -> Response:
        user = signed_in_user(request)
        job = imports.import_for(user, organization_id, import_id)
        data = _valid(serializers.CrmImportStartInput, request.data)
        started = imports.import_start(actor=user, job=job, mapping=data["mapping"])
        return Response(_job_payload(started))


class CsvRenderer(BaseRenderer):
    """Lets a client ask for ``text/csv``; errors still come as the JSON error shape."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode("utf-8")


class ExportApi(APIView):
    """The filtered records as a CSV file (streamed)."""

    permission_classes = (IsCrmMember,)
    renderer_classes = (JSONRenderer, CsvRenderer)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "view",
                OpenApiTypes.INT,
                description="Export with one of the caller's saved views (its filters).",
            ),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR, description="CSV, header row first."
            )
        },
        operation_id="crm_export_csv",
        summary="Export as CSV",
        description=(
            "`entity` is deals, contacts, companies, leads or tasks; filters as in their "
            "lists (422 `crm.invalid_filter`). Money in reais (`1234.56`), dates ISO 8601; "
            "deals of one pipeline get its custom fields as `cf.<key>` columns. Another "
            "person's saved view: 404 `crm.not_found`."
        ),
    )
    def get(self, request: Request, organization_id: int, entity: str) -> StreamingHttpResponse:
        user = signed_in_user(request)
        if entity not in filtering.KEYS:
            raise filtering.invalid_filter("entity")
        view_id = request.query_params.get("view")
        if view_id:
            if not view_id.isdigit():
                raise filtering.invalid_filter("view")
            view = saved_views.saved_view_for(user, organization_id, int(view_id))
            if view.entity != entity:
                raise filtering.invalid_filter("view")
            filters = filtering.clean_filters(entity, view.filters)
        else:
            filters = filtering.filters_from_query(entity, request.query_params, user=user)
        lines = exports.export_csv(
            user=user, organization_id=organization_id, entity=entity, filters=filters
        )
        response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
        day = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="crm-{entity}-{day}.csv"'
        return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("imports/", ImportListApi.as_view(), name="crm-imports"),
    path("imports/<int:import_id>/", ImportDetailApi.as_view(), name="crm-import"),
    path("imports/<int:import_id>/start/", ImportStartApi.as_view(), name="crm-import-start"),
    path("export/<str:entity>.csv", ExportApi.as_view(), name="crm-export"),
]
