variable "location" {
  description = "Azure region for every resource, e.g. westeurope. It must offer Container Apps and Azure Managed Redis."
  type        = string
  default     = "westeurope"

  validation {
    # Region names as the Azure CLI prints them (az account list-locations -o table).
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "location is an Azure region name in lower case without spaces, e.g. westeurope or northeurope."
  }
}

variable "name" {
  description = "Prefix of the resource names (resource group, environment, namespace, ...). Service Bus and Redis names are global, so make it unique to you."
  type        = string
  default     = "ride"

  validation {
    # The strictest of the names built from it: Service Bus namespaces take
    # 6-50 letters, digits and hyphens, start with a letter and end with a
    # letter or digit; "<name>-bus" must fit.
    condition     = can(regex("^[a-z][a-z0-9-]{1,38}[a-z0-9]$", var.name))
    error_message = "name is 3-40 lower-case letters, digits and hyphens, starting with a letter and ending with a letter or digit."
  }
}

variable "style" {
  description = "Who coordinates a trip (the README's \"Three styles\"): choreography (the trip service, and events between the services), orchestration (services/orchestrator, the naive orchestrator, calling the services' steps) or workflow (services/workflow, the RequestTrip Dapr Workflow). The coordinator serves the Trip API in the trip service's place."
  type        = string
  default     = "choreography"

  validation {
    condition     = contains(["choreography", "orchestration", "workflow"], var.style)
    error_message = "style is choreography, orchestration or workflow."
  }
}

variable "images" {
  description = "Container image of each service, e.g. { trip = \"myregistry.azurecr.io/ride/trip:1.0.0\", ... }. Build them with services/<name>/Dockerfile. trip and dispatch are needed with style choreography, orchestrator with orchestration, workflow with workflow."
  type = object({
    trip         = optional(string, "")
    driver       = string
    notification = string
    dispatch     = optional(string, "")
    orchestrator = optional(string, "")
    workflow     = optional(string, "")
  })

  validation {
    condition     = alltrue([for image in values(var.images) : !strcontains(image, " ")]) && length(trimspace(var.images.driver)) > 0 && length(trimspace(var.images.notification)) > 0
    error_message = "driver and notification need an image reference (registry/repository:tag); no reference may hold spaces."
  }
}

variable "registry_server" {
  description = "Login server of a private registry the images come from (e.g. myregistry.azurecr.io), pulled with the managed identity. Empty for public images."
  type        = string
  default     = ""
}

variable "acr_id" {
  description = "Resource ID of an Azure Container Registry: when set, the managed identity gets AcrPull on it. Leave null when you grant pull rights yourself or the images are public."
  type        = string
  default     = null
}

variable "min_replicas" {
  description = "Minimum replicas per service; trip is the Trip API's, which the coordinator serves in the other styles; dispatch runs in the choreography only. See the comment on local.services for why each default is what it is."
  type = object({
    trip         = number
    driver       = number
    notification = number
    dispatch     = optional(number, 1)
  })
  default = {
    trip         = 1
    driver       = 0
    notification = 1
    dispatch     = 1
  }

  validation {
    condition     = alltrue([for n in values(var.min_replicas) : n >= 0 && n <= 30 && floor(n) == n])
    error_message = "min_replicas are whole numbers from 0 to 30."
  }

  validation {
    # The public API must answer without a cold start: orders arrive over
    # HTTP, which no subscription backlog shows.
    condition     = var.min_replicas.trip >= 1
    error_message = "min_replicas.trip must be at least 1: the Trip API is the public entry point and must answer without a cold start."
  }
}

variable "max_replicas" {
  description = "Maximum replicas per service (the KEDA rules scale up to this)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_replicas >= 1 && var.max_replicas <= 300 && floor(var.max_replicas) == var.max_replicas
    error_message = "max_replicas is a whole number from 1 to 300 (the Container Apps limit)."
  }
}

variable "messages_per_replica" {
  description = "KEDA target: backlog messages on one subscription per replica before another replica is added."
  type        = number
  default     = 20

  validation {
    condition     = var.messages_per_replica >= 1
    error_message = "messages_per_replica must be at least 1."
  }
}

variable "servicebus_sku" {
  description = "Service Bus tier. Topics need Standard or Premium (Basic has queues only)."
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Standard", "Premium"], var.servicebus_sku)
    error_message = "servicebus_sku is Standard or Premium; Basic has no topics."
  }
}

variable "redis_sku" {
  description = "Azure Managed Redis SKU of the state stores. Balanced_B0/B1 are the smallest; NoCluster (used here) is available up to 25 GB."
  type        = string
  default     = "Balanced_B0"

  validation {
    condition     = can(regex("^(Balanced_B(0|1|3|5|10|20)|ComputeOptimized_X(3|5|10|20)|MemoryOptimized_M(10|20))$", var.redis_sku))
    error_message = "redis_sku is a Managed Redis SKU of at most 25 GB (the NoCluster policy needs it), e.g. Balanced_B0, Balanced_B1, ComputeOptimized_X3."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the services (zerolog level)."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level is one of trace, debug, info, warn, error."
  }
}

variable "trace_sample_ratio" {
  description = "Share of new traces kept, from 0 to 1 (OTEL_TRACES_SAMPLER_ARG of the services; a trip's trace is kept whole or not at all). See the README for what tracing costs."
  type        = number
  default     = 0.1

  validation {
    condition     = var.trace_sample_ratio >= 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio is a number from 0 to 1."
  }
}

variable "otlp_endpoint" {
  description = "Where the services export their own spans over OTLP/gRPC, e.g. http://otel-collector:4317 inside the environment; empty exports none (the sidecars' spans still go to Application Insights)."
  type        = string
  default     = ""
}

variable "auth_issuer" {
  description = "The OpenID Connect issuer of riders' bearer tokens (the iss the public APIs accept), e.g. https://login.microsoftonline.com/<tenant-id>/v2.0 for Entra ID (AUTH_ISSUER); the dispatch service takes dispatchers' tokens of the same issuer, with the app role \"dispatcher\" in their roles claim."
  type        = string

  validation {
    condition     = can(regex("^https://[^/]+", var.auth_issuer))
    error_message = "auth_issuer is an https URL, such as https://login.microsoftonline.com/<tenant-id>/v2.0."
  }
}

variable "auth_audience" {
  description = "The aud the public APIs accept in riders' and dispatchers' tokens: the API's application ID URI or client id in Entra ID (AUTH_AUDIENCE)."
  type        = string
  default     = "ride-api"
}

variable "auth_jwks_url" {
  description = "Where the issuer publishes its signing keys, e.g. https://login.microsoftonline.com/<tenant-id>/discovery/v2.0/keys for Entra ID (AUTH_JWKS_URL); empty for <auth_issuer>/.well-known/jwks.json."
  type        = string
  default     = ""

  validation {
    condition     = var.auth_jwks_url == "" || can(regex("^https://[^/]+", var.auth_jwks_url))
    error_message = "auth_jwks_url is empty or an https URL."
  }
}

variable "tags" {
  description = "Tags on every resource that takes them."
  type        = map(string)
  default     = { project = "ride-choreography" }
}
