extension Program {
    /// Every role some rule assigns: a decision's `assign` can hold no other, and its `roles` no other beyond the
    /// event's own `authorization.roles` (`rules test` warns about an expected role outside these).
    public var assignedRoles: Set<String> {
        var roles: Set<String> = []
        for effect in effects where effect.assign { roles.insert(roleNames[Int(effect.role)]) }
        return roles
    }
}
