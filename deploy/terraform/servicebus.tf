# Azure Service Bus, the broker behind the Dapr component "pubsub".
# Topics and subscriptions are created here, up front, and never by the
# sidecars (disableEntityManagement): an event published to a topic before
# its subscription exists is lost for that subscriber, and the apps' identity
# has no right to manage entities anyway.

resource "azurerm_servicebus_namespace" "this" {
  name                = "${var.name}-bus"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku                 = var.servicebus_sku
  # Entra ID only: no SAS keys, so no connection string can leak.
  local_auth_enabled  = false
  minimum_tls_version = "1.2"
  tags                = var.tags
}

resource "azurerm_servicebus_topic" "this" {
  for_each = toset(local.topics)

  name         = each.key
  namespace_id = azurerm_servicebus_namespace.this.id
  # How long an event waits for a subscriber that is down. After that Service
  # Bus moves it to the subscription's dead-letter queue (see below), it does
  # not drop it.
  default_message_ttl = "P14D"
  # Duplicate detection is not needed: every consumer is idempotent.
  requires_duplicate_detection = false
}

# One subscription per (topic, subscriber), named after the subscriber's app
# id: the Dapr sidecar's consumerID, which is the subscription it reads.
resource "azurerm_servicebus_subscription" "this" {
  for_each = local.subscriptions

  name     = each.value.app
  topic_id = azurerm_servicebus_topic.this[each.value.topic].id
  # Deliveries before Service Bus dead-letters a message; the same value as
  # the pubsub component's maxDeliveryCount (why 20: local.max_delivery_count).
  # The resiliency policy retries inside each delivery, so a RETRY answer
  # does not use one up.
  max_delivery_count = local.max_delivery_count
  # Matches the component's default lockDurationInSec (60): a message a
  # replica took and then died with is handed out again after a minute. The
  # sidecar renews the lock every 20 s (lockRenewalInSec) while it retries.
  lock_duration = "PT1M"
  # An expired event lands in the subscription's dead-letter queue, where it
  # can be inspected (Service Bus Explorer) instead of vanishing.
  dead_lettering_on_message_expiration      = true
  dead_lettering_on_filter_evaluation_error = true
}

# Dapr's Service Bus component sends and receives; KEDA reads the
# subscriptions' message counts. Scoped to the namespace, not wider.
resource "azurerm_role_assignment" "servicebus" {
  for_each = toset(["Azure Service Bus Data Sender", "Azure Service Bus Data Receiver"])

  scope                = azurerm_servicebus_namespace.this.id
  role_definition_name = each.key
  principal_id         = azurerm_user_assigned_identity.apps.principal_id
  principal_type       = "ServicePrincipal"
}
