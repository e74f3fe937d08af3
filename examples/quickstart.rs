fn main() {
    #[cfg(feature = "emulator")]
    println!("emu on");
}
