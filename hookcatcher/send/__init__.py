"""hookcatcher as the gateway: the outgoing request, delivery, what to send (sources), exports."""
