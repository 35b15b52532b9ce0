import PitlaneCore
import Testing

struct AddressPolicyTests {
    @Test(arguments: [
        "127.0.0.1", "127.1.2.3", "10.0.0.8", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fd00:ec2::254", "fc00::1", "::ffff:127.0.0.1",
        "::ffff:192.168.0.1", "64:ff9b::a00:1", "ff02::1", "not-an-ip", "",
        // Issue 12: ranges that were missing.
        "192.88.99.1", "2002:c0a8:101::1", "2002:7f00:1::1", "2002:a9fe:a9fe::", "fec0::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",
        "::ffff:0:127.0.0.1", "::ffff:0:a00:1", "64:ff9b:1::a00:1", "100::1",
    ])
    func refusesNonPublicAddresses(_ address: String) {
        #expect(!AddressPolicy.isPublic(address))
    }

    @Test(arguments: [
        "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1", "64:ff9b::808:808",
        "::ffff:0:8.8.8.8",
    ])
    func allowsPublicAddresses(_ address: String) {
        #expect(AddressPolicy.isPublic(address))
    }

    @Test func recognisesLoopback() {
        for address in ["127.0.0.1", "127.9.8.7", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"] {
            #expect(AddressPolicy.isLoopback(address), "\(address)")
        }
        for address in ["128.0.0.1", "10.0.0.1", "::", "::2", "::ffff:10.0.0.1", "fe80::1", "localhost", "127.0.0.1.example", ""] {
            #expect(!AddressPolicy.isLoopback(address), "\(address)")
        }
    }

    @Test func recognisesLiterals() {
        #expect(AddressPolicy.isIPLiteral("127.0.0.1"))
        #expect(AddressPolicy.isIPLiteral("[::1]"))
        #expect(!AddressPolicy.isIPLiteral("localhost"))
    }
}

struct HostAllowListTests {
    @Test func namesAndWildcards() {
        let list = HostAllowList(["CDN.example.com", "*.edge.example.net", "203.0.113.7", "[2001:db8::1]"])
        #expect(list.permits("cdn.example.com") && list.permits("CDN.EXAMPLE.COM.") && list.permits("a.edge.example.net"))
        #expect(list.permits("x.y.edge.example.net"))
        #expect(!list.permits("edge.example.net"), "a wildcard is below the name, not the name")
        #expect(!list.permits("evil-edge.example.net") && !list.permits("cdn.example.com.evil.test") && !list.permits("example.com"))
        #expect(list.permits("203.0.113.7") && !list.permits("203.0.113.8"))
        #expect(list.permits("[2001:db8::1]"))
    }

    @Test(arguments: ["", "*", "*.", "a*.example.com", "http://x.example", "x.example/path", "exa mple.com", "a:b"])
    func rejectsWhatIsNotAHost(_ pattern: String) {
        #expect(HostAllowList.problem(with: pattern) != nil)
    }

    @Test func theConfigReadsAndChecksIt() throws {
        let config = try ConfigLoader.parse(
            """
            sources:
              - {id: tv, kind: static, allow_hosts: ["*.cdn.example.com", TV.example.com], streams: [{url: "https://a.cdn.example.com/x.m3u8", title: X}]}
            """)
        #expect(config.sources.first?.allowHosts == ["*.cdn.example.com", "tv.example.com"])
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(
                "sources: [{id: tv, kind: static, allow_hosts: [\"http://x\"], streams: [{url: \"https://x/x.m3u8\", title: X}]}]")
        }
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse("sources: [{id: tv, kind: static, allow_hosts: [], streams: [{url: \"https://x/x.m3u8\", title: X}]}]")
        }
    }
}
