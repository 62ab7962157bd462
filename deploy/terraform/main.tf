resource "azurerm_resource_group" "this" {
  name     = "${var.name}-rg"
  location = var.location
  tags     = var.tags
}

resource "azurerm_log_analytics_workspace" "this" {
  name                = "${var.name}-logs"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku                 = "PerGB2018"
  retention_in_days   = 30
  tags                = var.tags
}

# Traces. Container Apps loads no Dapr Configuration file (components/config.yaml
# is for make run and docker compose), so the environment carries the
# sidecars' tracing: they send their spans to this Application Insights,
# where one trip is one end-to-end transaction (its operation id is the
# trace id the services log). The services' own spans go where
# var.otlp_endpoint points, if anywhere (an OpenTelemetry Collector with the
# Azure Monitor exporter, for example); unset, they are made for the trace
# ids in the logs and dropped.
resource "azurerm_application_insights" "this" {
  name                = "${var.name}-traces"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  workspace_id        = azurerm_log_analytics_workspace.this.id
  application_type    = "other"
  tags                = var.tags
}

resource "azurerm_container_app_environment" "this" {
  name                       = "${var.name}-env"
  location                   = azurerm_resource_group.this.location
  resource_group_name        = azurerm_resource_group.this.name
  log_analytics_workspace_id = azurerm_log_analytics_workspace.this.id
  # azurerm 5.x: without this the workspace is linked but the logs are only
  # streamed, never stored; `validate` does not notice its absence.
  logs_destination = "log-analytics"
  # The sidecars' Dapr tracing (see azurerm_application_insights above).
  dapr_application_insights_connection_string = azurerm_application_insights.this.connection_string
  tags                                        = var.tags
}

# The one identity the sidecars, KEDA and the image pull use. No connection
# string or key exists anywhere in this deployment: Service Bus and Redis
# accept only Microsoft Entra ID tokens for it (local auth is off on both).
resource "azurerm_user_assigned_identity" "apps" {
  name                = "${var.name}-apps"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  tags                = var.tags
}

resource "azurerm_role_assignment" "acr_pull" {
  count                = var.acr_id == null ? 0 : 1
  scope                = var.acr_id
  role_definition_name = "AcrPull"
  principal_id         = azurerm_user_assigned_identity.apps.principal_id
  principal_type       = "ServicePrincipal"
}
