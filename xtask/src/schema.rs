//! Reading WSDL 1.1 and XSD into a small model of what codegen emits.
//!
//! Supported: `schema` (several per file, several files per provider), top-level `element`
//! (named type or inline `complexType`), `complexType` with `sequence`/`all` of `element`s
//! (`minOccurs`, `maxOccurs`, `nillable`), `complexContent/extension` (fields of the base
//! first; the hierarchy gets an `xsi:type` attribute), SOAP-encoded arrays
//! (`complexContent/restriction base="soapenc:Array"` with `wsdl:arrayType`), `simpleType`
//! enumerations of strings, and WSDL messages, port types and SOAP 1.1/1.2 bindings (operation
//! names, `soapAction`, style, use; rpc message parts). A file that is neither a schema nor a
//! WSDL is read as an XML sample document and its types inferred from its structure
//! ([`read_file`]). Anything else is an error naming the file, the line and the construct —
//! never a silent skip.

mod model;
mod sample;
mod wsdl;
mod xsd;

pub use model::{
    ArrayDef, Builtin, EnumDef, Field, FieldType, Model, Occurs, Operation, QName, SOAP_ENC,
    SOAP11, SOAP12, SchemaError, StructDef, TypeDef, WSDL, XSD,
};
use model::{Reader, is};

use sample::read_sample;
use wsdl::read_wsdl;
use xsd::read_schema;

/// Read one file (WSDL or XSD) into `model`.
pub fn read_file(model: &mut Model, file: &str, text: &str) -> Result<(), SchemaError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| SchemaError {
        file: file.to_owned(),
        line: e.pos().row,
        message: format!("malformed XML: {e}"),
    })?;
    let r = Reader { file, doc: &doc };
    model.sources.push(file.to_owned());
    let root = doc.root_element();
    if is(root, XSD, "schema") {
        read_schema(&r, model, root)
    } else if is(root, WSDL, "definitions") {
        read_wsdl(&r, model, root)
    } else {
        read_sample(&r, model, root)
    }
}
