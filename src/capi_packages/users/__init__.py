"""Cloud Foundry users: who roles name, with the username and origin their token issuer knows."""
