"""CRM API: tasks (with their reminders) and saved views.

Every route is under ``/api/v1/crm/<organization_id>/``. Outsiders, tasks on deals of
pipelines the caller does not see and other people's saved views answer the same 404
``crm.not_found``; viewers get 403 on task changes (saved views are personal: any member
keeps their own). Each view validates its input and calls one service or selector.
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from core.pagination import PagePagination
from crm import filtering, reminders, saved_views
from crm.api import work_serializers as serializers
from crm.api.permissions import IsCrmMember, IsCrmMemberReadingOrWriter, IsCrmWriter
from crm.models import SavedViewEntity

NOT_FOUND_DOC = (
    "Outsiders and tasks on deals the caller does not see: 404 `crm.not_found`; viewers: 403 "
    "`crm.permission_denied` on changes."
)
TASK_FILTERS = [
    OpenApiParameter("assignee", OpenApiTypes.STR, description="A user id, or `me`."),
    OpenApiParameter("done", OpenApiTypes.BOOL),
    OpenApiParameter(
        "due_from", OpenApiTypes.STR, description="A day (YYYY-MM-DD) or an ISO instant."
    ),
    OpenApiParameter(
        "due_to", OpenApiTypes.STR, description="A day (YYYY-MM-DD) or an ISO instant."
    ),
    OpenApiParameter("overdue", OpenApiTypes.BOOL, description="Open and past due."),
    OpenApiParameter("deal", OpenApiTypes.INT),
    OpenApiParameter("contact", OpenApiTypes.INT),
    OpenApiParameter("lead", OpenApiTypes.INT),
    OpenApiParameter("q", OpenApiTypes.STR, description="Title contains."),
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="1 to 200 (default 50)."),
]


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _task_payload(task: Any) -> dict[str, Any]:
    return dict(serializers.CrmTaskOutput(reminders.task_data(task)).data)


def _view_payload(view: Any) -> dict[str, Any]:
    return dict(serializers.CrmSavedViewOutput(saved_views.saved_view_data(view)).data)


# --- Tasks -----------------------------------------------------------------------------------


class TaskListApi(APIView):
    """The tasks I see, filtered; create one."""

    permission_classes = (IsCrmMemberReadingOrWriter,)

    @extend_schema(
        parameters=TASK_FILTERS,
        responses=serializers.CrmTaskPageOutput,
        operation_id="crm_tasks_list",
        summary="Tasks",
        description="By due time. Bad filters: 422 `crm.invalid_filter` (extra.field).",
    )
    def get(self, request: Request, organization_id: int) -> Response:
        user = signed_in_user(request)
        filters = filtering.filters_from_query("tasks", request.query_params, user=user)
        tasks = reminders.tasks_list(user=user, organization_id=organization_id, filters=filters)
        paginator = PagePagination()
        page = paginator.paginate_queryset(tasks, request, view=self) or []
        return paginator.get_paginated_response([_task_payload(task) for task in page])

    @extend_schema(
        request=serializers.CrmTaskCreateInput,
        responses={201: serializers.CrmTaskOutput},
        summary="Create a task",
        description=(
            "About a deal, a contact and/or a lead of the organization (none: 422 "
            "`crm.invalid_task`; another organization's or an unseen deal: 422 "
            "`crm.invalid_reference`, extra.field). Assigned to the caller unless "
            "`assignee_id` (a member) is given. The assignee is reminded at `due_at`. "
            + NOT_FOUND_DOC
        ),
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = _valid(serializers.CrmTaskCreateInput, request.data)
        task = reminders.task_create(
            actor=signed_in_user(request), organization_id=organization_id, **data
        )
        found = reminders.task_for(signed_in_user(request), organization_id, task.pk)
        return Response(_task_payload(found), status=status.HTTP_201_CREATED)


class TaskDetailApi(APIView):
    """Change or delete a task."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=serializers.CrmTaskUpdateInput,
        responses=serializers.CrmTaskOutput,
        summary="Change a task",
        description="A new `due_at` reminds again at that time. " + NOT_FOUND_DOC,
    )
    def patch(self, request: Request, organization_id: int, task_id: int) -> Response:
        user = signed_in_user(request)
        task = reminders.task_for(user, organization_id, task_id)
        data = _valid(serializers.CrmTaskUpdateInput, request.data)
        return Response(_task_payload(reminders.task_update(actor=user, task=task, **data)))

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Deleted.")},
        summary="Delete a task",
        description=NOT_FOUND_DOC,
    )
    def delete(self, request: Request, organization_id: int, task_id: int) -> Response:
        user = signed_in_user(request)
        task = reminders.task_for(user, organization_id, task_id)
        reminders.task_delete(actor=user, task=task)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskDoneApi(APIView):
    """Mark a task done."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=None,
        responses=serializers.CrmTaskOutput,
        summary="Mark a task done",
        description="Done again is a no-op. " + NOT_FOUND_DOC,
    )
    def post(self, request: Request, organization_id: int, task_id: int) -> Response:
        user = signed_in_user(request)
        task = reminders.task_for(user, organization_id, task_id)
        return Response(_task_payload(reminders.task_complete(actor=user, task=task)))


class TaskReopenApi(APIView):
    """Mark a done task open again."""

    permission_classes = (IsCrmWriter,)

    @extend_schema(
        request=None,
        responses=serializers.CrmTaskOutput,
        summary="Reopen a task",
        description=NOT_FOUND_DOC,
    )
    def post(self, request: Request, organization_id: int, task_id: int) -> Response:
        user = signed_in_user(request)
        task = reminders.task_for(user, organization_id, task_id)
        return Response(_task_payload(reminders.task_reopen(actor=user, task=task)))


# --- Saved views -----------------------------------------------------------------------------

VIEW_DOC = (
    "Only the caller's own views exist for them (others': 404 `crm.not_found`). Filters are "
    "checked (422 `crm.invalid_filter`, extra.field); a name the caller already uses: 409 "
    "`crm.view_name_taken`."
)


class SavedViewListApi(APIView):
    """My saved views; save one."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "entity",
                OpenApiTypes.STR,
                description="deals, contacts, companies, leads or tasks.",
            ),
        ],
        responses=serializers.CrmSavedViewOutput(many=True),
        operation_id="crm_views_list",
        summary="My saved views",
        description="In their order. " + VIEW_DOC,
    )
    def get(self, request: Request, organization_id: int) -> Response:
        entity = request.query_params.get("entity") or None
        if entity is not None and entity not in SavedViewEntity.values:
            raise filtering.invalid_filter("entity")
        views = saved_views.saved_views_list(
            user=signed_in_user(request), organization_id=organization_id, entity=entity
        )
        return Response([_view_payload(view) for view in views])

    @extend_schema(
        request=serializers.CrmSavedViewCreateInput,
        responses={201: serializers.CrmSavedViewOutput},
        summary="Save a view",
        description="Any member (viewers too) keeps their own views. " + VIEW_DOC,
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = _valid(serializers.CrmSavedViewCreateInput, request.data)
        view = saved_views.saved_view_create(
            actor=signed_in_user(request), organization_id=organization_id, **data
        )
        return Response(_view_payload(view), status=status.HTTP_201_CREATED)


class SavedViewDetailApi(APIView):
    """Change or delete one of my saved views."""

    permission_classes = (IsCrmMember,)

    @extend_schema(
        request=serializers.CrmSavedViewUpdateInput,
        responses=serializers.CrmSavedViewOutput,
        summary="Change a saved view",
        description="`filters` replaces the stored set. " + VIEW_DOC,
    )
    def patch(self, request: Request, organization_id: int, view_id: int) -> Response:
        user = signed_in_user(request)
        view = saved_views.saved_view_for(user, organization_id, view_id)
        data = _valid(serializers.CrmSavedViewUpdateInput, request.data)
        return Response(_view_payload(saved_views.saved_view_update(actor=user, view=view, **data)))

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description="Deleted.")},
        summary="Delete a saved view",
        description=VIEW_DOC,
    )
    def delete(self, request: Request, organization_id: int, view_id: int) -> Response:
        user = signed_in_user(request)
        view = saved_views.saved_view_for(user, organization_id, view_id)
        saved_views.saved_view_delete(actor=user, view=view)
        return Response(status=status.HTTP_204_NO_CONTENT)


urlpatterns: list[URLPattern | URLResolver] = [
    path("tasks/", TaskListApi.as_view(), name="crm-tasks"),
    path("tasks/<int:task_id>/", TaskDetailApi.as_view(), name="crm-task"),
    path("tasks/<int:task_id>/done/", TaskDoneApi.as_view(), name="crm-task-done"),
    path("tasks/<int:task_id>/reopen/", TaskReopenApi.as_view(), name="crm-task-reopen"),
    path("views/", SavedViewListApi.as_view(), name="crm-views"),
    path("views/<int:view_id>/", SavedViewDetailApi.as_view(), name="crm-view"),
]
