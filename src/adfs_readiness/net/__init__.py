"""The only code that opens sockets (DESIGN.md, "Layout"): LDAP connections (:mod:`.ldap`)."""
