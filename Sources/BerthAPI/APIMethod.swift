#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A method of the API: its wire name and the types of its params and result.
///
/// The daemon registers handlers by these values and the client calls through them, so
/// a method's name and types are written once. `API.all` lists every method the daemon
/// serves; the proto-docs test checks each against `proto-docs/`.
public struct APIMethod<Params: Codable & Sendable, Result: Codable & Sendable>: Sendable, AnyAPIMethod {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public func roundTripParams(_ json: [UInt8]) throws -> [UInt8] {
        try WireJSON.encode(WireJSON.decode(Params.self, from: json))
    }

    public func roundTripResult(_ json: [UInt8]) throws -> [UInt8] {
        try WireJSON.encode(WireJSON.decode(Result.self, from: json))
    }
}

/// A method with its types erased, for tables of methods.
public protocol AnyAPIMethod: Sendable {
    var name: String { get }
    /// Decodes `json` as the params type and encodes it again (to check documentation).
    func roundTripParams(_ json: [UInt8]) throws -> [UInt8]
    /// Decodes `json` as the result type and encodes it again.
    func roundTripResult(_ json: [UInt8]) throws -> [UInt8]
}

/// No params, or no result: `{}` on the wire.
public struct Empty: Codable, Sendable, Equatable {
    public init() {}
}

/// Every method of the daemon's API socket.
public enum API {
    /// The API version `system.version` reports; raised on incompatible changes.
    public static let version = 1

    public static let systemVersion = APIMethod<Empty, VersionInfo>("system.version")
    public static let systemInfo = APIMethod<Empty, SystemInfo>("system.info")

    public static let namespacesCreate = APIMethod<CreateNamespaceRequest, NamespaceResponse>("namespaces.create")
    public static let namespacesGet = APIMethod<NamespaceNameRequest, NamespaceResponse>("namespaces.get")
    public static let namespacesList = APIMethod<Empty, ListNamespacesResponse>("namespaces.list")
    public static let namespacesUpdate = APIMethod<UpdateNamespaceRequest, NamespaceResponse>("namespaces.update")
    public static let namespacesDelete = APIMethod<NamespaceNameRequest, Empty>("namespaces.delete")

    public static let eventsSubscribe = APIMethod<SubscribeEventsRequest, SubscribeEventsResponse>("events.subscribe")
    public static let eventsUnsubscribe = APIMethod<UnsubscribeEventsRequest, Empty>("events.unsubscribe")
    public static let eventsPublish = APIMethod<PublishEventRequest, PublishEventResponse>("events.publish")

    public static let all: [any AnyAPIMethod] = [
        systemVersion, systemInfo,
        namespacesCreate, namespacesGet, namespacesList, namespacesUpdate, namespacesDelete,
        eventsSubscribe, eventsUnsubscribe, eventsPublish,
    ]
}
