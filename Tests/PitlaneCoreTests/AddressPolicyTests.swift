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

    @Test func recognisesLiterals() {
        #expect(AddressPolicy.isIPLiteral("127.0.0.1"))
        #expect(AddressPolicy.isIPLiteral("[::1]"))
        #expect(!AddressPolicy.isIPLiteral("localhost"))
    }
}
