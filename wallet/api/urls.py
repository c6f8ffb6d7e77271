from django.urls import path

from wallet.api import views

app_name = "wallet"

urlpatterns = [
    path("wallet/", views.WalletApi.as_view(), name="wallet"),
    path("wallet/packages/", views.PackageListApi.as_view(), name="packages"),
    path("wallet/topups/", views.TopUpApi.as_view(), name="topups"),
    path("wallet/topups/<int:charge_id>/", views.TopUpDetailApi.as_view(), name="topup"),
    path(
        "wallet/topups/<int:charge_id>/simulate-payment/",
        views.TopUpSimulatePaymentApi.as_view(),
        name="topup-simulate",
    ),
    path("wallet/statement/", views.StatementApi.as_view(), name="statement"),
    path("wallet/statement.csv", views.StatementExportApi.as_view(), name="statement-csv"),
    path("wallet/receipts/<str:reference>/", views.ReceiptApi.as_view(), name="receipt"),
    path("wallet/earnings/", views.EarningsApi.as_view(), name="earnings"),
    path("wallet/payouts/", views.PayoutApi.as_view(), name="payouts"),
    path("wallet/disputes/", views.DisputeApi.as_view(), name="disputes"),
    path(
        "wallet/disputes/charges/", views.DisputableChargeApi.as_view(), name="disputable-charges"
    ),
]
