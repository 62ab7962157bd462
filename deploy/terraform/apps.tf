# The apps of var.style (local.apps), each with a Dapr sidecar (app id =
# service name): the four services, or, in the other styles, the coordinator
# in the trip service's place and no dispatch service.
resource "azurerm_container_app" "app" {
  for_each = local.apps

  name                         = each.key
  container_app_environment_id = azurerm_container_app_environment.this.id
  resource_group_name          = azurerm_resource_group.this.name
  revision_mode                = "Single"
  tags                         = var.tags

  identity {
    type         = "UserAssigned"
    identity_ids = [azurerm_user_assigned_identity.apps.id]
  }

  dynamic "registry" {
    for_each = var.registry_server == "" ? [] : [var.registry_server]
    content {
      server   = registry.value
      identity = azurerm_user_assigned_identity.apps.id
    }
  }

  dapr {
    app_id       = each.key
    app_port     = each.value.port
    app_protocol = "http"
  }

  # Only the Trip API and the dispatchers' page are public (local.services).
  # The others are reachable inside the environment at http://<app>, e.g.
  # http://notification.
  ingress {
    external_enabled = each.value.external
    target_port      = each.value.port
    transport        = "http"

    traffic_weight {
      latest_revision = true
      percentage      = 100
    }
  }

  template {
    min_replicas = local.min_replicas[each.key]
    max_replicas = each.value.max_replicas

    container {
      name   = each.key
      image  = var.images[each.key]
      cpu    = 0.25
      memory = "0.5Gi"

      dynamic "env" {
        for_each = merge(local.common_env, each.value.extra_env,
          { APP_PORT = tostring(each.value.port) },
        each.value.state_store == "" ? {} : { STATESTORE_NAME = each.value.state_store })
        content {
          name  = env.key
          value = env.value
        }
      }

      # /healthz answers as soon as the HTTP server runs; a failing one means
      # the process is stuck, so restart it.
      liveness_probe {
        transport        = "HTTP"
        port             = each.value.port
        path             = "/healthz"
        interval_seconds = 10
      }

      # /readyz is 200 only when the sidecar and the state store answer, and
      # 503 from SIGTERM on, so no traffic reaches a replica that cannot
      # serve or is shutting down.
      readiness_probe {
        transport               = "HTTP"
        port                    = each.value.port
        path                    = "/readyz"
        interval_seconds        = 5
        success_count_threshold = 1
      }
    }

    # Queue length is the scaling signal: one KEDA rule per subscription this
    # app reads, on that subscription's backlog. Authenticated with the
    # managed identity (identity_id), not a connection string.
    dynamic "custom_scale_rule" {
      for_each = { for key, s in local.subscriptions : s.topic => s if s.app == each.key }
      content {
        name             = "${custom_scale_rule.key}-backlog"
        custom_rule_type = "azure-servicebus"
        identity_id      = azurerm_user_assigned_identity.apps.id
        metadata = {
          namespace        = azurerm_servicebus_namespace.this.name
          topicName        = custom_scale_rule.value.topic
          subscriptionName = custom_scale_rule.value.app
          messageCount     = tostring(var.messages_per_replica)
          # One waiting message wakes a service scaled to zero.
          activationMessageCount = "0"
        }
      }
    }

    # The public apps also scale on concurrent HTTP requests: orders arrive
    # over HTTP, not from a queue, and dispatchers hold the board's stream
    # open.
    dynamic "http_scale_rule" {
      for_each = each.value.external ? ["http"] : []
      content {
        name                = "http-requests"
        concurrent_requests = "50"
      }
    }
  }

  lifecycle {
    precondition {
      condition     = length(trimspace(var.images[each.key])) > 0
      error_message = "style ${var.style} runs ${each.key}: set images.${each.key} (build it with services/${each.key}/Dockerfile)."
    }
  }

  # Scale rules read the subscriptions, and the sidecars need their rights
  # and components before the first replica starts.
  depends_on = [
    azurerm_servicebus_subscription.this,
    azurerm_role_assignment.servicebus,
    azurerm_role_assignment.acr_pull,
    azurerm_managed_redis_access_policy_assignment.apps,
    azurerm_container_app_environment_dapr_component.pubsub,
    azurerm_container_app_environment_dapr_component.state,
  ]
}
