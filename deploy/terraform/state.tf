# State stores: Azure Managed Redis, reached with the apps' managed identity.
#
# Why Redis and not Cosmos DB: the trip service writes a trip's record only
# if none is stored yet (POST /trips and its own trip-created subscription
# both try, docs/conventions.md), with first-write concurrency and ETag "0".
# Dapr's Redis store reads that ETag as "nothing stored yet": the write
# succeeds on an absent key and is an ETag mismatch on a key written with
# first-write concurrency (components-contrib v1.17.3, state/redis; what
# every local run and the end-to-end tests exercise). Dapr's Cosmos DB store
# sends the ETag as an If-Match condition on an upsert instead; that this
# inserts an absent item and refuses a stored one is not known here.
#
# NoCluster: one shard, the same as the local Redis. One instance holds the
# services' stores; each Dapr component is scoped to one app and prefixes every
# key with the app id, so no service reads another's state. Give each
# service its own instance when they must not share capacity or failure.
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
