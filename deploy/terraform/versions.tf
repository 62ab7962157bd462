# Azure Container Apps deployment of the ride choreography: three services
# with Dapr sidecars, Azure Service Bus topics as the broker, KEDA scaling on
# each subscription's backlog. Walk-through: README.md in this folder.

terraform {
  required_version = ">= 1.6"

  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
      # Written and validated against the provider's 5.x main line (see
      # scripts/validate-terraform.sh). 5.x changed defaults that matter here:
      # no resource providers registered implicitly (see below) and the
      # Container Apps environment needs logs_destination set explicitly.
      version = ">= 5.0, < 6.0"
    }
  }
}

provider "azurerm" {
  features {}

  # Since azurerm 5.0 nothing is registered on the subscription by default.
  # These are the Azure resource providers this deployment uses; registering
  # needs subscription-level rights. Set ARM_RESOURCE_PROVIDER_REGISTRATIONS
  # or edit this list if your subscription has them registered already.
  resource_providers_to_register = [
    "Microsoft.App",
    "Microsoft.Cache",
    "Microsoft.ManagedIdentity",
    "Microsoft.OperationalInsights",
    "Microsoft.ServiceBus",
  ]
}
