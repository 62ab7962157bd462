# Dapr components on the Container Apps environment: the same names and
# behaviour as components/ in the repository, with Azure services behind
# them. Every component has scopes, so a sidecar loads only what its app
# owns.
#
# Dapr resiliency (components/resiliency.yaml) cannot be declared here: a
# Container Apps environment takes Dapr components, not Resiliency resources.
# Container Apps has its own Dapr component resiliency policies
# (Microsoft.App/managedEnvironments/daprComponents/resiliencyPolicies),
# which the azurerm provider does not offer. They live in resiliency/, one
# YAML file per component (local.resiliency_policies), and are applied after
# `terraform apply` with the Azure CLI: output post_apply_commands prints the
# commands. Without them a sidecar tries each delivery once, and a RETRY
# answer sends the event to the subscriber's dead-letter topic at once.

locals {
  # Dapr component resiliency policies, applied by post_apply_commands
  # (outputs.tf): component name => file, relative to this folder. Only
  # "pubsub": a failing state call already makes the handler answer RETRY,
  # which the pubsub policy retries.
  resiliency_policies = {
    pubsub = "resiliency/pubsub.yaml"
  }

  # Metadata of every state store: Entra ID with the apps' identity, TLS on
  # the Managed Redis port.
  redis_metadata = {
    redisHost     = "${azurerm_managed_redis.state.hostname}:10000"
    enableTLS     = "true"
    useEntraID    = "true"
    azureClientId = azurerm_user_assigned_identity.apps.client_id
  }
}

# The broker, as in components/brokers/servicebus.yaml.
resource "azurerm_container_app_environment_dapr_component" "pubsub" {
  name                         = "pubsub"
  container_app_environment_id = azurerm_container_app_environment.this.id
  component_type               = "pubsub.azure.servicebus.topics"
  version                      = "v1"
  scopes                       = local.subscribers

  metadata {
    # The fully qualified name (<name>.servicebus.windows.net): with no
    # connection string the component authenticates with Entra ID.
    name  = "namespaceName"
    value = "${azurerm_servicebus_namespace.this.name}.servicebus.windows.net"
  }
  metadata {
    name  = "azureClientId"
    value = azurerm_user_assigned_identity.apps.client_id
  }
  metadata {
    # Terraform owns topics and subscriptions (servicebus.tf).
    name  = "disableEntityManagement"
    value = "true"
  }
  metadata {
    name  = "maxDeliveryCount"
    value = tostring(local.max_delivery_count)
  }
  metadata {
    # How long one delivery may take, inbound retries included (see
    # local.servicebus_handler_timeout_in_sec).
    name  = "handlerTimeoutInSec"
    value = tostring(local.servicebus_handler_timeout_in_sec)
  }
  # Only the right app publishes and receives each topic (local.apps).
  metadata {
    name  = "protectedTopics"
    value = local.protected_topics
  }
  metadata {
    name  = "publishingScopes"
    value = local.publishing_scopes
  }
  metadata {
    name  = "subscriptionScopes"
    value = local.subscription_scopes
  }
}

# One state store per app that has one, each scoped to its app alone; the
# workflow app's is its actor state store, where Dapr Workflow keeps each
# workflow's state and history.
resource "azurerm_container_app_environment_dapr_component" "state" {
  for_each = { for app, a in local.apps : a.state_store => app if a.state_store != "" }

  name                         = each.key
  container_app_environment_id = azurerm_container_app_environment.this.id
  component_type               = "state.redis"
  version                      = "v1"
  scopes                       = [each.value]

  dynamic "metadata" {
    for_each = merge(local.redis_metadata, local.apps[each.value].actor_state_store ? { actorStateStore = "true" } : {})
    content {
      name  = metadata.key
      value = metadata.value
    }
  }
}
