output "trip_api_url" {
  description = "Base URL of the Trip API (POST /trips, GET /trips/{id})."
  value       = "https://${azurerm_container_app.app[local.coordinator].ingress[0].fqdn}"
}

output "dispatch_url" {
  description = "The dispatchers' page (sign in at /signin with a dispatcher's token of auth_issuer); null in the styles without the dispatch service."
  value       = contains(keys(azurerm_container_app.app), "dispatch") ? "https://${azurerm_container_app.app["dispatch"].ingress[0].fqdn}" : null
}

output "servicebus_namespace" {
  description = "The Service Bus namespace behind the pubsub component (for Service Bus Explorer and dead-letter queues)."
  value       = azurerm_servicebus_namespace.this.name
}

output "resource_group" {
  description = "The resource group holding everything (for az containerapp logs show -g ...)."
  value       = azurerm_resource_group.this.name
}

# azurerm cannot create Dapr component resiliency policies (dapr.tf), so the
# Azure CLI applies them after `terraform apply`; see README.md, step 2b.
output "post_apply_commands" {
  description = "Run after every terraform apply (idempotent): creates or replaces the Dapr component resiliency policies in resiliency/ with the Azure CLI, then restarts each app's revision so its sidecar loads them. Print with: terraform output -raw post_apply_commands"
  value = join("\n", concat(
    [
      for component, file in local.resiliency_policies : join(" ", [
        "az containerapp env dapr-component resiliency create",
        "--resource-group ${azurerm_resource_group.this.name}",
        "--environment ${azurerm_container_app_environment.this.name}",
        "--dapr-component-name ${component}",
        "--name ${component}-resiliency",
        "--yaml ${path.module}/${file}",
      ])
    ],
    [
      for app in keys(local.apps) : join(" ", [
        "az containerapp revision restart",
        "--resource-group ${azurerm_resource_group.this.name}",
        "--name ${app}",
        "--revision ${azurerm_container_app.app[app].latest_revision_name}",
      ])
    ],
  ))
}
