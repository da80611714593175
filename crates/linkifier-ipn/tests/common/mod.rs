//! What the linkifier test files share: the provider page's samples, placeholders filled.
#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

/// A sample from `schemas/linkifier/samples/`.
pub fn sample(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../../schemas/linkifier/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The samples' type placeholders that are not values of their type (`long`, `int`,
/// `double`, `boolean`) replaced by values; `string` placeholders stay.
pub fn with_values(xml: &str) -> String {
    xml.replace(
        "<PayProviderID>long</PayProviderID>",
        "<PayProviderID>7</PayProviderID>",
    )
    .replace(
        "<SalesSiteID>long</SalesSiteID>",
        "<SalesSiteID>12</SalesSiteID>",
    )
    .replace(
        "<SalesSiteProductID>long</SalesSiteProductID>",
        "<SalesSiteProductID>345</SalesSiteProductID>",
    )
    .replace(
        "<CustomerID>long</CustomerID>",
        "<CustomerID>9000000001</CustomerID>",
    )
    .replace(
        "<TransactionTypeID>int</TransactionTypeID>",
        "<TransactionTypeID>1</TransactionTypeID>",
    )
    .replace(
        "<PayProviderAmount>double</PayProviderAmount>",
        "<PayProviderAmount>19.99</PayProviderAmount>",
    )
    .replace(
        "<SaleQuantity>int</SaleQuantity>",
        "<SaleQuantity>2</SaleQuantity>",
    )
    .replace(
        "<HasErrors>boolean</HasErrors>",
        "<HasErrors>true</HasErrors>",
    )
    .replace("<ErrorCode>int</ErrorCode>", "<ErrorCode>17</ErrorCode>")
}
