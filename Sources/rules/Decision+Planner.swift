import RolecallEngine

extension Decision {
    /// What the planner reads of the event (`user.user_id`, `authorization.roles`), taken from the evaluator's own
    /// reading rather than a second parse, in the shape `UserPlan.make(decision:event:)` takes: one event, one
    /// meaning for the rules and the plan alike.
    var plannerEvent: JSONValue {
        var user: [(key: String, value: JSONValue)] = []
        if let userID { user.append((key: "user_id", value: .string(userID))) }
        return .object([
            (key: "user", value: .object(user)),
            (key: "authorization", value: .object([(key: "roles", value: .array(currentRoles.map(JSONValue.string)))])),
        ])
    }
}
