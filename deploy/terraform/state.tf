# State stores: Azure Managed Redis, reached with the apps' managed identity.
#
# Why Redis and not Cosmos DB: the trip service stores a trip and its
# trip-created event in one Dapr state transaction (the transactional
# outbox, docs/conventions.md). Dapr's Cosmos DB store runs a transaction as
# one Cosmos batch inside a single partition, named by a "partitionKey"
# metadata on the request; the trip service sends none, and the outbox adds
# a marker record under a key of its own, so on Cosmos DB the transaction
# would fail or land in a partition that later reads do not look in. Redis
# runs it as MULTI/EXEC, which is what every local run and the end-to-end
# tests exercise (state.redis with the outbox, measured working in Dapr 1.17).
#
# NoCluster: one shard, so a transaction over several keys behaves exactly
# as on the local Redis. One instance holds the three stores; each Dapr
# component is scoped to one app and prefixes every key with the app id, so
# no service reads another's state. Give each service its own instance when
# they must not share capacity or failure.
resource "azurerm_managed_redis" "state" {
  name                = "${var.name}-state"
  location            = azurerm_resource_group.this.location
  resource_group_name = azurerm_resource_group.this.name
  sku_name            = var.redis_sku
  tags                = var.tags

  default_database {
    clustering_policy = "NoCluster"
    # Entra ID only: no access keys exist to leak.
    access_keys_authentication_enabled = false
    client_protocol                    = "Encrypted"
    # State is data, not a cache: never evict it, and keep it across restarts.
    eviction_policy                               = "NoEviction"
    persistence_append_only_file_backup_frequency = "1s"
  }
}

# Lets the apps' identity log in to the default database with its Entra ID
# token (Dapr's useEntraID).
resource "azurerm_managed_redis_access_policy_assignment" "apps" {
  managed_redis_id = azurerm_managed_redis.state.id
  object_id        = azurerm_user_assigned_identity.apps.principal_id
}
