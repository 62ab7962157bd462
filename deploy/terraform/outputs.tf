output "trip_api_url" {
  description = "Base URL of the Trip API (POST /trips, GET /trips/{id})."
  value       = "https://${azurerm_container_app.app["trip"].ingress[0].fqdn}"
}

output "servicebus_namespace" {
  description = "The Service Bus namespace behind the pubsub component (for Service Bus Explorer and dead-letter queues)."
  value       = azurerm_servicebus_namespace.this.name
}

output "resource_group" {
  description = "The resource group holding everything (for az containerapp logs show -g ...)."
  value       = azurerm_resource_group.this.name
}
