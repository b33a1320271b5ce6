import RolecallLanguage

extension Program {
    /// Every role some rule assigns: a decision's `assign` can hold no other, and its `roles` no other beyond the
    /// event's own `authorization.roles` (`rules test` warns about an expected role outside these). By their
    /// bytes (``ExactString``): `"caf\u{E9}"` and `"cafe\u{301}"` are two roles, and assigning one is not
    /// assigning the other.
    public var assignedRoles: Set<ExactString> {
        var roles: Set<ExactString> = []
        for effect in effects where effect.assign { roles.insert(ExactString(roleNames[Int(effect.role)])) }
        return roles
    }
}
