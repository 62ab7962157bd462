# Plans the deployment in each style (variable "style") against a mock of
# the azurerm provider: no Azure account, no network. `tofu test` evaluates
# every expression the way `apply` would, which `tofu validate` does not,
# so this is where a style that does not plan shows. Run by
# scripts/validate-terraform.sh (make validate-deploy).

# The provider checks the ids one resource takes from another, so the mocks
# of those resources give ids of the right shape.
mock_provider "azurerm" {
  mock_resource "azurerm_resource_group" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride" }
  }
  mock_resource "azurerm_log_analytics_workspace" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride/providers/Microsoft.OperationalInsights/workspaces/ride-logs" }
  }
  mock_resource "azurerm_container_app_environment" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride/providers/Microsoft.App/managedEnvironments/ride-env" }
  }
  mock_resource "azurerm_user_assigned_identity" {
    defaults = {
      id           = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ride-apps"
      principal_id = "11111111-1111-1111-1111-111111111111"
      client_id    = "22222222-2222-2222-2222-222222222222"
    }
  }
  mock_resource "azurerm_servicebus_namespace" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride/providers/Microsoft.ServiceBus/namespaces/ride-bus" }
  }
  mock_resource "azurerm_servicebus_topic" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride/providers/Microsoft.ServiceBus/namespaces/ride-bus/topics/trip-created" }
  }
  mock_resource "azurerm_managed_redis" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/ride/providers/Microsoft.Cache/redisEnterprise/ride-state" }
  }
}

variables {
  images = {
    trip         = "example.azurecr.io/ride/trip:1"
    driver       = "example.azurecr.io/ride/driver:1"
    notification = "example.azurecr.io/ride/notification:1"
    dispatch     = "example.azurecr.io/ride/dispatch:1"
    orchestrator = "example.azurecr.io/ride/orchestrator:1"
    workflow     = "example.azurecr.io/ride/workflow:1"
  }
  auth_issuer   = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
  auth_jwks_url = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys"
}

run "choreography" {
  command = plan

  assert {
    condition     = toset(keys(azurerm_container_app.app)) == toset(["trip", "driver", "notification", "dispatch"])
    error_message = "choreography runs the four services"
  }
  assert {
    condition     = azurerm_container_app.app["driver"].template[0].min_replicas == 0
    error_message = "choreography lets the driver service scale to zero: its subscription keeps the backlog"
  }
  assert {
    condition     = toset(keys(azurerm_container_app_environment_dapr_component.state)) == toset(["trip-store", "driver-store", "notification-store", "dispatch-store"])
    error_message = "choreography has a state store per service"
  }
}

# The dispatchers' page, added beside the three services: public (a browser
# reaches it) on its port, its own store, a subscription created up front
# for each topic it reads and a KEDA rule on each, at least one replica for
# the dispatchers' open streams, and its URL in the outputs.
run "dispatch" {
  command = plan

  assert {
    condition     = azurerm_container_app.app["dispatch"].ingress[0].external_enabled && azurerm_container_app.app["dispatch"].ingress[0].target_port == 8083 && azurerm_container_app.app["dispatch"].dapr[0].app_id == "dispatch" && azurerm_container_app.app["dispatch"].dapr[0].app_port == 8083
    error_message = "dispatch is the Dapr app dispatch on port 8083, with external ingress for the dispatchers' browsers"
  }
  assert {
    condition     = azurerm_container_app_environment_dapr_component.state["dispatch-store"].scopes == tolist(["dispatch"])
    error_message = "dispatch-store is the dispatch service's alone"
  }
  assert {
    condition     = toset([for k, s in azurerm_servicebus_subscription.this : k if s.name == "dispatch"]) == toset(["trip-created/dispatch", "driver-assigned/dispatch", "driver-not-found/dispatch", "dispatch-dead-letters/dispatch"])
    error_message = "dispatch has a subscription, named after it, on trip-created, driver-assigned, driver-not-found and its dead-letter topic"
  }
  assert {
    condition     = toset([for r in azurerm_container_app.app["dispatch"].template[0].custom_scale_rule : r.metadata.topicName if r.metadata.subscriptionName == "dispatch"]) == toset(["trip-created", "driver-assigned", "driver-not-found", "dispatch-dead-letters"])
    error_message = "dispatch scales on the backlog of each of its subscriptions"
  }
  assert {
    condition     = azurerm_container_app.app["dispatch"].template[0].min_replicas == 1
    error_message = "dispatch keeps a replica for the dispatchers' open streams"
  }
  assert {
    condition     = alltrue([for name in ["AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL"] : contains([for e in azurerm_container_app.app["dispatch"].template[0].container[0].env : e.name], name)]) && contains([for e in azurerm_container_app.app["dispatch"].template[0].container[0].env : "${e.name}=${e.value}"], "STATESTORE_NAME=dispatch-store")
    error_message = "dispatch verifies dispatchers' tokens of auth_issuer and uses its own store"
  }
  assert {
    condition     = output.dispatch_url != null
    error_message = "the outputs give the dispatchers' page"
  }
}

run "choreography_without_the_dispatch_image" {
  command = plan

  variables {
    images = {
      trip         = "example.azurecr.io/ride/trip:1"
      driver       = "example.azurecr.io/ride/driver:1"
      notification = "example.azurecr.io/ride/notification:1"
    }
  }

  expect_failures = [azurerm_container_app.app]
}

run "orchestration" {
  command = plan

  variables {
    style = "orchestration"
  }

  assert {
    condition     = toset(keys(azurerm_container_app.app)) == toset(["orchestrator", "driver", "notification"])
    error_message = "orchestration runs the orchestrator in the trip service's place, and no dispatch service: it publishes no events for it"
  }
  assert {
    condition     = output.dispatch_url == null && length([for s in azurerm_servicebus_subscription.this : s if s.name == "dispatch"]) == 0
    error_message = "without the dispatch service, no dispatch URL and no subscription that nobody reads"
  }
  assert {
    condition     = azurerm_container_app.app["orchestrator"].ingress[0].external_enabled && azurerm_container_app.app["orchestrator"].template[0].max_replicas == 1
    error_message = "the orchestrator serves the public Trip API, as one replica"
  }
  assert {
    condition     = alltrue([for app in ["driver", "notification"] : azurerm_container_app.app[app].template[0].min_replicas >= 1])
    error_message = "the services the orchestrator invokes keep a replica"
  }
  assert {
    condition     = !contains([for e in azurerm_container_app.app["orchestrator"].template[0].container[0].env : e.name], "STATESTORE_NAME")
    error_message = "the naive orchestrator has no state store"
  }
}

run "workflow" {
  command = plan

  variables {
    style = "workflow"
  }

  assert {
    condition     = toset(keys(azurerm_container_app.app)) == toset(["workflow", "driver", "notification"])
    error_message = "workflow runs the workflow app in the trip service's place, and no dispatch service"
  }
  assert {
    condition     = contains([for m in azurerm_container_app_environment_dapr_component.state["workflow-store"].metadata : "${m.name}=${m.value}"], "actorStateStore=true")
    error_message = "workflow-store is the workflow app's actor state store"
  }
  assert {
    condition     = azurerm_container_app_environment_dapr_component.state["workflow-store"].scopes == tolist(["workflow"])
    error_message = "workflow-store is the workflow app's alone"
  }
}

# No Dapr component carries a credential as a value: the components sign in
# with the managed identity, and one that could not would take its
# credential from a Key Vault secret (metadata secret_name). The names are
# those of credentialName in deploy_test.go (TestPlanChecksTheSameCredentialNames
# keeps them the same), evaluated here by the real planner in every style.
run "no_credential_in_component_metadata" {
  command = plan

  variables {
    style = "workflow"
  }

  assert {
    condition = alltrue([
      for m in flatten([for c in concat([azurerm_container_app_environment_dapr_component.pubsub], values(azurerm_container_app_environment_dapr_component.state)) : c.metadata]) :
      m.secret_name != null || !can(regex("(?i)(password|passwd|passphrase|secret|token|credential|connectionstring|accesskey|accountkey|masterkey|privatekey|clientkey|seedkey|saskey|sharedaccess|apikey|jwt|(url|uri|dsn)$)", m.name))
    ])
    error_message = "a Dapr component has a credential-like metadata item with a value; use the managed identity, or secret_name naming a Key Vault secret"
  }
  assert {
    condition     = length(flatten([for c in values(azurerm_container_app_environment_dapr_component.state) : [for m in c.metadata : m if m.name == "useEntraID" && m.value == "true"]])) == length(azurerm_container_app_environment_dapr_component.state)
    error_message = "every state store signs in to Redis with Entra ID (the managed identity), not a key"
  }
}

run "a_style_without_its_image" {
  command = plan

  variables {
    style = "workflow"
    images = {
      driver       = "example.azurecr.io/ride/driver:1"
      notification = "example.azurecr.io/ride/notification:1"
    }
  }

  expect_failures = [azurerm_container_app.app]
}

run "an_unknown_style" {
  command = plan

  variables {
    style = "saga"
  }

  expect_failures = [var.style]
}
