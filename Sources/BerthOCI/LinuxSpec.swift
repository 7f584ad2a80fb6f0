extension Spec {
    /// The `linux` section: namespaces, id mappings, cgroups, devices, seccomp, paths.
    public struct Linux: Codable, Sendable, Equatable {
        public var uidMappings: [IDMapping]?
        public var gidMappings: [IDMapping]?
        public var sysctl: [String: String]?
        public var resources: Resources?
        public var cgroupsPath: String?
        public var namespaces: [Namespace]?
        public var devices: [Device]?
        public var seccomp: Seccomp?
        public var rootfsPropagation: String?
        public var maskedPaths: [String]?
        public var readonlyPaths: [String]?
        public var mountLabel: String?
        public var personality: Personality?

        public init(namespaces: [Namespace]? = nil) {
            self.namespaces = namespaces
        }
    }

    public struct IDMapping: Codable, Sendable, Equatable {
        public var containerID: UInt32
        public var hostID: UInt32
        public var size: UInt32
        public init(containerID: UInt32, hostID: UInt32, size: UInt32) {
            self.containerID = containerID
            self.hostID = hostID
            self.size = size
        }
    }

    public struct Namespace: Codable, Sendable, Equatable {
        /// pid, network, mount, ipc, uts, user, cgroup, time.
        public var type: String
        /// Join this namespace instead of creating one.
        public var path: String?
        public init(type: String, path: String? = nil) {
            self.type = type
            self.path = path
        }
    }

    public struct Device: Codable, Sendable, Equatable {
        /// c, b, u or p.
        public var type: String
        public var path: String
        public var major: Int64?
        public var minor: Int64?
        public var fileMode: UInt32?
        public var uid: UInt32?
        public var gid: UInt32?
        public init(type: String, path: String, major: Int64? = nil, minor: Int64? = nil, fileMode: UInt32? = nil, uid: UInt32? = nil, gid: UInt32? = nil) {
            self.type = type
            self.path = path
            self.major = major
            self.minor = minor
            self.fileMode = fileMode
            self.uid = uid
            self.gid = gid
        }
    }

    public struct Personality: Codable, Sendable, Equatable {
        /// LINUX or LINUX32.
        public var domain: String
        public var flags: [String]?
        public init(domain: String, flags: [String]? = nil) {
            self.domain = domain
            self.flags = flags
        }
    }

    public struct Seccomp: Codable, Sendable, Equatable {
        public var defaultAction: String
        public var defaultErrnoRet: UInt32?
        public var architectures: [String]?
        public var flags: [String]?
        public var listenerPath: String?
        public var syscalls: [Syscall]?

        public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil, syscalls: [Syscall]? = nil) {
            self.defaultAction = defaultAction
            self.defaultErrnoRet = defaultErrnoRet
            self.architectures = architectures
            self.syscalls = syscalls
        }

        public struct Syscall: Codable, Sendable, Equatable {
            public var names: [String]
            public var action: String
            public var errnoRet: UInt32?
            public var args: [Arg]?
            public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [Arg]? = nil) {
                self.names = names
                self.action = action
                self.errnoRet = errnoRet
                self.args = args
            }
        }

        public struct Arg: Codable, Sendable, Equatable {
            public var index: UInt32
            public var value: UInt64
            public var valueTwo: UInt64?
            /// SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ.
            public var op: String
            public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
                self.index = index
                self.value = value
                self.valueTwo = valueTwo
                self.op = op
            }
        }
    }
}
